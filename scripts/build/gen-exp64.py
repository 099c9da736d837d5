#!/usr/bin/env python3
"""The constants of the float64 exp in assembly/exp.ts (F64_EXP_TABLE and F64_C2..), printed as
AssemblyScript: `python3 scripts/build/gen-exp64.py [N] [degree of q]` (default 64 3).

- The table: for j = 0..N-1, the bits of the float64 nearest to 2^(j/N), minus j << (52 - log2 N)
  (see F64_EXP_TABLE).
- The polynomial: exp(r) = 1 + r + r^2 q(r) on |r| <= ln2/(2N), q the Chebyshev interpolant of
  (exp(r) - 1 - r) / r^2, its coefficients rounded to float64; also the worst relative error of
  1 + r + r^2 q(r) against exp(r) over 2001 points (the truncation alone, in exact arithmetic).

Everything is computed with 60-digit decimal arithmetic (Python's decimal module), so the only
rounding is the final one to float64 (fractions.Fraction rounds correctly).
"""
import struct
import sys
from decimal import Decimal as D, getcontext
from fractions import Fraction

getcontext().prec = 60
N = int(sys.argv[1]) if len(sys.argv) > 1 else 64
DEG = int(sys.argv[2]) if len(sys.argv) > 2 else 3
BITS = N.bit_length() - 1
LN2 = D(2).ln()
PI = D('3.14159265358979323846264338327950288419716939937510582097494')


def bits(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


def to_f64(d):
    return float(Fraction(d))


def cos(x):
    s, term, k = D(0), D(1), 0
    while abs(term) > D(10) ** -58:
        s += term
        k += 2
        term = -term * x * x / D(k - 1) / D(k)
    return s


def q(r):
    """(e^r - 1 - r) / r^2 = sum over k >= 0 of r^k / (k + 2)!, without cancellation near 0."""
    s, term, k = D(0), D(1) / D(2), 0
    while abs(term) > D(10) ** -58:
        s += term
        k += 1
        term = term * r / D(k + 2)
    return s


table = [(bits(to_f64((D(j) / D(N) * LN2).exp())) - (j << (52 - BITS))) % (1 << 64) for j in range(N)]

# Interpolate q at the DEG + 1 Chebyshev nodes of [-h, h] (Gauss-Jordan on the Vandermonde system).
h = LN2 / D(2 * N)
n = DEG + 1
nodes = [h * cos((2 * k + 1) * PI / D(2 * n)) for k in range(n)]
A = [[r ** i for i in range(n)] + [q(r)] for r in nodes]
for c in range(n):
    p = max(range(c, n), key=lambda i: abs(A[i][c]))
    A[c], A[p] = A[p], A[c]
    for i in range(n):
        if i != c:
            f = A[i][c] / A[c][c]
            A[i] = [a - f * b for a, b in zip(A[i], A[c])]
coef = [to_f64(A[i][n] / A[i][i]) for i in range(n)]  # C2, C3, ...

worst = max(
    abs((1 + r + r * r * sum(D(c) * r ** k for k, c in enumerate(coef))) / r.exp() - 1)
    for r in (-h + 2 * h * D(i) / D(2000) for i in range(2001))
)
print(f'// N = {N}: truncation {float(worst):.2g} relative ({float(worst) / 2 ** -52:.2g} ulp)')
for k, c in reversed(list(enumerate(coef))):
    print(f'@inline const F64_C{k + 2}: f64 = {c!r};')
for i in range(0, N, 4):
    print('  ' + ', '.join(f'reinterpret<f64>(0x{t:016X})' for t in table[i:i + 4]) + ',')
