#pragma once
// GPT-2's reversible byte <-> character mapping used by byte-level BPE: every byte becomes one
// printable character (printable Latin-1 bytes map to themselves, the rest to U+0100..U+0143), so
// vocabularies store byte strings as ordinary text ("Ġthe" is " the").
#include <cstdint>
#include <string>
#include <string_view>

namespace dsmoe::tok::byte_level {

// The character standing for byte `b`.
char32_t byte_to_char(uint8_t b) noexcept;

// The byte that character `c` stands for, or -1 when `c` is not one of the 256 byte characters.
int char_to_byte(char32_t c) noexcept;

// Appends the byte-character form of `bytes` (each byte -> one character, UTF-8 encoded).
void append_mapped(std::string& out, std::string_view bytes);

// Appends the bytes that the byte characters of `text` stand for. Returns false (and appends
// nothing) when `text` holds a character outside the mapping or is not valid UTF-8.
bool append_unmapped(std::string& out, std::string_view text);

}  // namespace dsmoe::tok::byte_level
