// AMX-INT8 gemm for q8/q4 weights (prompt processing). One TDPBSSD multiplies up to 16 tokens by
// 16 weight rows over one group of 32 inputs; every group has its own weight and activation
// scales, so each group's int32 tile goes through memory into f32 sums (AVX-512), which are
// updated exactly as the AVX-512 VNNI kernel updates them: the results are bit for bit the same.
// A step covers 32 tokens (two A tiles) × 32 weight rows (two B tiles) in four C tiles, so each
// tile load feeds two multiplies; the tiles are configured for the tokens a block has (a last
// block of up to 16 tokens uses one A tile).
//
// Tiles (docs/FORMAT.md): a group of one 8-row weight tile is already AMX's B layout ("4 inputs ×
// rows" per 32-byte line), 8 rows of 32 bytes. Two weight tiles side by side make a B tile of 16
// columns: the 32-byte lines of both are interleaved into 64-byte lines on the stack (q4: the
// nibbles are unpacked there, minus 8, so both types use TDPBSSD and need no sum(q) correction).
// A token's activation blocks follow each other, so group g of 16 tokens is one strided tile load.
//
// What bounds it: per group and 16×16 outputs, one C tile store (1 KiB) and 16 vector loads,
// conversions, multiplies and FMAs; the tile unit's store takes about as long as its multiply.
#include <immintrin.h>

#include "kernels/registry.h"
#include "quant/qlayout.h"

namespace dsmoe {
namespace {

#include "kernels/x86/q_pairs_avx512.h"

constexpr int kTileTokens = 16;  // tokens per A tile (AMX's maximum rows)
constexpr int kTileCols = 16;    // weight rows per B tile: two 8-row weight tiles (64-byte lines)
constexpr int kBlockRows = 2 * kTileCols;  // weight rows per step: two B tiles
constexpr int kLineBytes = 4 * kTileCols;  // a B line (4 inputs × 16 rows) and a C row (16 int32)
constexpr int kBTileBytes = kGroupSize / 4 * kLineBytes;

// Tile registers: tmm0/1 hold A (tokens 0-15, 16-31 of a block), tmm2/3 B (rows 0-15, 16-31),
// tmm4-7 C for (A0,B0), (A0,B1), (A1,B0), (A1,B1). GCC's tile intrinsics paste the register number
// into the assembly, so it must be a literal.

// Palette 1 (ldtilecfg's memory layout).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

// A tile i: m[i] tokens × 32 activation bytes; B: 8 lines of 4 inputs × 16 weight rows; C tiles
// of A tile i: m[i] × 16 int32.
void configure_tiles(const int (&m)[2]) {
  TileConfig c;
  // A tile with no rows (no second A tile) gets no bytes either: ldtilecfg faults on half a shape.
  for (int i : {0, 1}) {
    c.rows[i] = static_cast<uint8_t>(m[i]);
    c.bytes_per_row[i] = m[i] > 0 ? kGroupSize : 0;
  }
  for (int b : {2, 3}) {
    c.rows[b] = kGroupSize / 4;
    c.bytes_per_row[b] = kLineBytes;
  }
  for (int cc : {4, 5, 6, 7}) {
    c.rows[cc] = static_cast<uint8_t>(m[(cc - 4) / 2]);
    c.bytes_per_row[cc] = m[(cc - 4) / 2] > 0 ? kLineBytes : 0;
  }
  // Not _tile_loadconfig: GCC 12's version tells the compiler it reads only the first 8 bytes, so
  // the stores of the row counts are dropped as dead and the first tile load faults.
  __asm__ volatile("ldtilecfg %0" : : "m"(c));
}

// One group's quants of weight tiles a and b as a signed B tile: 8 lines of 64 bytes.
template <QType T>
inline void pack_b(const uint8_t* qa, const uint8_t* qb, int8_t* out) {
  if constexpr (T == QType::kQ8) {
    for (int v = 0; v < 8; ++v) _mm512_store_si512(out + kLineBytes * v, load_pair(qa + 32 * v, qb + 32 * v));
  } else {
    // Byte (c/4)*32 + r*4 + c%4 holds input c (low nibble) and c + 16 (high): lines 0-3 and 4-7.
    const __m512i m4 = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(8);
    for (int v = 0; v < 4; ++v) {
      const __m512i raw = load_pair(qa + 32 * v, qb + 32 * v);
      const __m512i lo = _mm512_and_si512(raw, m4), hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
      _mm512_store_si512(out + kLineBytes * v, _mm512_sub_epi8(lo, eight));
      _mm512_store_si512(out + kLineBytes * (v + 4), _mm512_sub_epi8(hi, eight));
    }
  }
}

// kBlockRows weight rows (four 8-row tiles) against MT A tiles of m[0] and m[1] tokens from t0
// (as configured).
template <QType T, int MT>
class Block {
 public:
  // tiles[p]: weight tile p of the block (a repeated last tile where fewer rows are left).
  Block(const uint8_t* const* tiles, int64_t cols, const QActBlock* x, int64_t t0, const int (&m)[2])
      : ng_(qlayout::groups(cols)), x_(x + t0 * ng_), m_{m[0], m[1]} {
    for (int p = 0; p < 4; ++p) {
      scales_[p] = qlayout::tile_scales(tiles[p]);
      quants_[p] = tiles[p] + qlayout::scale_section_bytes(cols);
    }
    for (auto& row : acc_) {
      for (float& v : row) v = 0.0f;
    }
  }

  // Every group: the weights are packed one group ahead and each C tile's f32 update runs one
  // group behind, between the tile instructions, so the vector units work while the tile unit
  // multiplies and stores (a tile load of freshly stored bytes, or a vector load of a freshly
  // stored tile, waits for the store to complete).
  void run() {
    const size_t a_stride = static_cast<size_t>(ng_) * sizeof(QActBlock);
    pack(0);
    for (int64_t g = 0; g < ng_; ++g) {
      if (g + 1 < ng_) pack(g + 1);
      const int8_t* b = b_[g & 1];
      int32_t(*c)[kTileTokens * kTileCols] = c_[g & 1];
      const bool behind = g > 0;
      _tile_loadd(0, x_[g].q, a_stride);
      if constexpr (MT == 2) _tile_loadd(1, x_[kTileTokens * ng_ + g].q, a_stride);
      _tile_loadd(2, b, kLineBytes);
      _tile_loadd(3, b + kBTileBytes, kLineBytes);
      // Written out per C tile: the tile intrinsics paste their tile numbers into the assembly as
      // literal tokens (without optimization they are macros), so a template parameter cannot
      // name a tile.
      _tile_zero(4);
      _tile_dpbssd(4, 0, 2);
      if (behind) update(g - 1, 0, 0);
      _tile_stored(4, c[0], kLineBytes);
      _tile_zero(5);
      _tile_dpbssd(5, 0, 3);
      if (behind) update(g - 1, 0, 1);
      _tile_stored(5, c[1], kLineBytes);
      if constexpr (MT == 2) {
        _tile_zero(6);
        _tile_dpbssd(6, 1, 2);
        if (behind) update(g - 1, 1, 0);
        _tile_stored(6, c[2], kLineBytes);
        _tile_zero(7);
        _tile_dpbssd(7, 1, 3);
        if (behind) update(g - 1, 1, 1);
        _tile_stored(7, c[3], kLineBytes);
      }
    }
    for (int i = 0; i < MT; ++i) {
      for (int j = 0; j < 2; ++j) update(ng_ - 1, i, j);
    }
  }

  // Rows [row0, row0 + valid) of the block's tokens into Y.
  void store(float* y, int64_t ldy, int64_t t0, int64_t row0, int64_t valid) const {
    for (int j = 0; j < 2; ++j) {
      const int64_t left = valid - kTileCols * j;
      if (left <= 0) break;
      const __mmask16 keep = static_cast<__mmask16>(left >= kTileCols ? 0xffff : (1u << left) - 1);
      for (int i = 0; i < MT; ++i) {
        for (int t = kTileTokens * i; t < kTileTokens * i + m_[i]; ++t) {
          _mm512_mask_storeu_ps(y + (t0 + t) * ldy + row0 + kTileCols * j, keep,
                                _mm512_load_ps(&acc_[t][kTileCols * j]));
        }
      }
    }
  }

 private:
  void pack(int64_t g) {
    const int64_t gtb = qlayout::group_tile_bytes(T);
    int8_t* b = b_[g & 1];
    pack_b<T>(quants_[0] + g * gtb, quants_[1] + g * gtb, b);
    pack_b<T>(quants_[2] + g * gtb, quants_[3] + g * gtb, b + kBTileBytes);
  }

  // Group g's C tile (A i, B j) into the f32 sums, exactly as the AVX-512 VNNI kernel adds a group:
  // sum += float(isum) * (weight scale * activation scale).
  void update(int64_t g, int i, int j) {
    const __m512 ws = load_scales_pair(scales_[2 * j] + g * 8, scales_[2 * j + 1] + g * 8);
    const int32_t* c = c_[g & 1][2 * i + j];
#pragma GCC unroll 16
    for (int t = 0; t < kTileTokens; ++t) {
      if (t >= m_[i]) break;
      const int tok = kTileTokens * i + t;
      const __m512 scale = _mm512_mul_ps(ws, _mm512_set1_ps(x_[tok * ng_ + g].d));
      const __m512 isum = _mm512_maskz_cvtepi32_ps(kAll16, _mm512_load_si512(c + kTileCols * t));
      float* acc = &acc_[tok][kTileCols * j];
      _mm512_store_ps(acc, _mm512_fmadd_ps(isum, scale, _mm512_load_ps(acc)));
    }
  }

  const int64_t ng_;
  const QActBlock* x_;
  const int m_[2];
  const uint16_t* scales_[4];
  const uint8_t* quants_[4];
  alignas(64) int8_t b_[2][2 * kBTileBytes];
  alignas(64) int32_t c_[2][2 * MT][kTileTokens * kTileCols];
  alignas(64) float acc_[MT * kTileTokens][kBlockRows];
};

template <QType T, int MT>
void run_block(const uint8_t* const* tiles, int64_t cols, const QActBlock* x, int64_t t0,
               const int (&m)[2], float* y, int64_t ldy, int64_t row0, int64_t valid) {
  Block<T, MT> b(tiles, cols, x, t0, m);
  b.run();
  b.store(y, ldy, t0, row0, valid);
}

template <QType T>
void gemm_amx(const void* w, int64_t /*rows*/, int64_t cols, const QActBlock* x, int64_t n, float* y,
              int64_t ldy, int64_t r0, int64_t r1) noexcept {
  if (n <= 0 || r0 >= r1) return;
  const size_t tile_bytes = qlayout::tile_bytes(T, cols);
  const int64_t last_tile = (r1 - 1) / qlayout::kTileRows;
  // Tile rows as configured; a block with other token counts (the last one) reconfigures, which
  // costs far less than the block's pass over the weights.
  int configured[2] = {0, 0};
  for (int64_t row0 = r0; row0 < r1; row0 += kBlockRows) {
    const uint8_t* tiles[4];
    for (int64_t p = 0; p < 4; ++p) {
      const int64_t tile = row0 / qlayout::kTileRows + p;
      tiles[p] = static_cast<const uint8_t*>(w) + static_cast<size_t>(tile < last_tile ? tile : last_tile) * tile_bytes;
    }
    const int64_t valid = r1 - row0 < kBlockRows ? r1 - row0 : kBlockRows;
    // Tokens in blocks of up to 32 (two A tiles share each B tile), a last one of up to 16 in one A tile.
    for (int64_t t = 0; t < n;) {
      const int64_t left = n - t < 2 * kTileTokens ? n - t : 2 * kTileTokens;
      const int m[2] = {static_cast<int>(left < kTileTokens ? left : kTileTokens),
                        static_cast<int>(left > kTileTokens ? left - kTileTokens : 0)};
      if (m[0] != configured[0] || m[1] != configured[1]) {
        configure_tiles(m);
        configured[0] = m[0];
        configured[1] = m[1];
      }
      if (m[1] > 0) run_block<T, 2>(tiles, cols, x, t, m, y, ldy, row0, valid);
      else run_block<T, 1>(tiles, cols, x, t, m, y, ldy, row0, valid);
      t += left;
    }
  }
  _tile_release();
}

}  // namespace

namespace kernel_registry {
void add_amx(KernelTable& t) {
  t.gemm_q8_q8 = {gemm_amx<QType::kQ8>, 2 * kTileTokens, kBlockRows, "gemm_q8_q8_32x32__amx"};
  t.gemm_q4_q8 = {gemm_amx<QType::kQ4>, 2 * kTileTokens, kBlockRows, "gemm_q4_q8_32x32__amx"};
}
}  // namespace kernel_registry

}  // namespace dsmoe
