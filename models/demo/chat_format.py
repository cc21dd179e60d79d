"""The demo model's chat format: the Jinja template shipped in tokenizer_config.json and a Python
renderer that produces exactly what that template renders (jinja2 is not installed here, so the
renderer is written by hand; it follows the template statement by statement)."""

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"

# DeepSeek-V3's template without the tool-call branches: system prompts first (joined by a blank
# line), then <｜User｜>content and <｜Assistant｜>content<｜end▁of▁sentence｜> turns.
CHAT_TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(system_prompt='', is_first_sp=true) %}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'system' %}"
    "{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}"
    "{% set ns.is_first_sp = false %}"
    "{%- else %}{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}"
    "{%- endif %}"
    "{%- endif %}"
    "{%- endfor %}"
    "{{ bos_token }}{{ ns.system_prompt }}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}{%- endif %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{ '<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>' }}{%- endif %}"
    "{%- endfor -%}"
    "{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}"
)


def render_chat(messages, add_generation_prompt=False):
    """What CHAT_TEMPLATE renders for `messages` with bos_token = BOS."""
    system = [m["content"] for m in messages if m["role"] == "system"]
    out = [BOS, "\n\n".join(system)]
    for m in messages:
        if m["role"] == "user":
            out.append(USER + m["content"])
        elif m["role"] == "assistant":
            out.append(ASSISTANT + m["content"] + EOS)
    if add_generation_prompt:
        out.append(ASSISTANT)
    return "".join(out)
