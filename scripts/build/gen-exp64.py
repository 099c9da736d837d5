#!/usr/bin/env python3
"""The constants of the float64 exp in assembly/exp.ts (F64_EXP_TABLE and F64_C2..), printed as
AssemblyScript: `python3 scripts/build/gen-exp64.py [N] [degree of q]` (default 64 3).

- The table: for j = 0..N-1, the bits of the float64 nearest to 2^(j/N), minus j << (52 - log2 N)
  (see F64_EXP_TABLE).
- The polynomial: exp(r) = 1 + r + r^2 q(r) on |r| <= ln2/(2N), q the Chebyshev interpolant of
  (exp(r) - 1 - r) / r^2, its coefficients rounded to float64; also the worst relative error of
  1 + r + r^2 q(r) against exp(r) over 2001 points (the truncation alone, in exact arithmetic).

Everything is computed with 60-digit decimal arithmetic (scripts/build/chebyshev.py), so the only
rounding is the final one to float64.
"""
import sys
from decimal import Decimal as D

from chebyshev import bits, interpolant, to_f64

N = int(sys.argv[1]) if len(sys.argv) > 1 else 64
DEG = int(sys.argv[2]) if len(sys.argv) > 2 else 3
BITS = N.bit_length() - 1
LN2 = D(2).ln()


def q(r):
    """(e^r - 1 - r) / r^2 = sum over k >= 0 of r^k / (k + 2)!, without cancellation near 0."""
    s, term, k = D(0), D(1) / D(2), 0
    while abs(term) > D(10) ** -58:
        s += term
        k += 1
        term = term * r / D(k + 2)
    return s


table = [(bits(to_f64((D(j) / D(N) * LN2).exp())) - (j << (52 - BITS))) % (1 << 64) for j in range(N)]

# Interpolate q at the DEG + 1 Chebyshev nodes of [-h, h].
h = LN2 / D(2 * N)
coef = interpolant(q, -h, h, DEG + 1)  # C2, C3, ...

worst = max(
    abs((1 + r + r * r * sum(D(c) * r ** k for k, c in enumerate(coef))) / r.exp() - 1)
    for r in (-h + 2 * h * D(i) / D(2000) for i in range(2001))
)
print(f'// N = {N}: truncation {float(worst):.2g} relative ({float(worst) / 2 ** -52:.2g} ulp)')
for k, c in reversed(list(enumerate(coef))):
    print(f'@inline const F64_C{k + 2}: f64 = {c!r};')
for i in range(0, N, 4):
    print('  ' + ', '.join(f'reinterpret<f64>(0x{t:016X})' for t in table[i:i + 4]) + ',')
