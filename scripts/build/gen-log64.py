#!/usr/bin/env python3
"""The constants of the float64 log in assembly/log.ts (LOG_TABLE and P0..), printed as
AssemblyScript: `python3 scripts/build/gen-log64.py [table bits] [degree of P]` (default 5 7).

- The table: z in [OFF, 2 OFF) (the float64 OFF = 0x1.5Cp-1) is split into 2^B subintervals by the
  top B bits of bits(z) - bits(OFF). For each, invc ~ 1/c for c the subinterval's center, rounded
  to 8 significant bits (invc = 1 for the subinterval that holds 1), and -log(invc) as hi + lo:
  hi rounded to a multiple of 2^-43, lo the float64 nearest to the rest. Stored as (lo, hi, invc).
- The polynomial: log1p(r) = r + r^2 P(r) on the range of r = z * invc - 1 over all subintervals
  (widened by 2%), P the Chebyshev interpolant of (log1p(r) - r) / r^2, its coefficients rounded to
  float64; also the worst relative error of r + r^2 P(r) against log1p(r) over 2001 points (the
  truncation alone, in exact arithmetic).

Everything is computed with 60-digit decimal arithmetic (scripts/build/chebyshev.py), so the only
rounding is the final one to float64.
"""
import struct
import sys
from decimal import Decimal as D

from chebyshev import bits, interpolant, to_f64

B = int(sys.argv[1]) if len(sys.argv) > 1 else 5
DEG = int(sys.argv[2]) if len(sys.argv) > 2 else 7
OFF = 0x3FE5C00000000000


def from_bits(b):
    return D(struct.unpack('<d', struct.pack('<Q', b))[0])  # exact: Decimal(float) is


def round_sig(d, n):
    """d rounded to n significant bits (d > 0)."""
    e = 0
    while d >= 2:
        d, e = d / 2, e + 1
    while d < 1:
        d, e = d * 2, e - 1
    return (d * 2 ** (n - 1)).to_integral_value() / D(2) ** (n - 1) * D(2) ** e


def p(r):
    """(log1p(r) - r) / r^2 = sum over k >= 0 of (-1)^(k+1) r^k / (k + 2), without cancellation."""
    s, term, k = D(0), D(-1), 0
    while abs(term) > D(10) ** -58:
        s += term / D(k + 2)
        k += 1
        term = -term * r
    return s


entries, rlo, rhi = [], D(0), D(0)
for i in range(1 << B):
    a, b = from_bits(OFF + (i << (52 - B))), from_bits(OFF + ((i + 1) << (52 - B)))
    invc = D(1) if a <= 1 < b else round_sig(2 / (a + b), 8)
    rlo, rhi = min(rlo, a * invc - 1), max(rhi, b * invc - 1)
    if invc == 1:
        entries.append((bits(-0.0), bits(-0.0), bits(1.0)))  # -0.0: see LOG_TABLE
        continue
    logc = -invc.ln()
    hi = (logc * D(2) ** 43).to_integral_value() / D(2) ** 43
    entries.append((bits(to_f64(logc - hi)), bits(to_f64(hi)), bits(to_f64(invc))))

lo_, hi_ = rlo * D('1.02'), rhi * D('1.02')
coef = interpolant(p, lo_, hi_, DEG + 1)

worst = max(
    abs((r + r * r * sum(D(c) * r ** k for k, c in enumerate(coef))) / (1 + r).ln() - 1)
    for r in (lo_ + (hi_ - lo_) * D(i) / D(2000) for i in range(2001)) if r != 0
)
print(f'// r in [{float(rlo):.6g}, {float(rhi):.6g}]: truncation {float(worst):.2g} relative ({float(worst) / 2 ** -52:.2g} ulp)')
for k, c in enumerate(coef):
    print(f'@inline const P{k}: f64 = reinterpret<f64>(0x{bits(c):016X}); // {c!r}')
for e in entries:
    print('  ' + ', '.join(f'reinterpret<f64>(0x{t:016X})' for t in e) + ',')
