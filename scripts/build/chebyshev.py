"""What scripts/build/gen-exp64.py and gen-log64.py share: 60-digit decimal arithmetic (Python's
decimal module), float64 bits, and the Chebyshev interpolant that gives their polynomials."""
import struct
from decimal import Decimal as D, getcontext
from fractions import Fraction

getcontext().prec = 60
PI = D('3.14159265358979323846264338327950288419716939937510582097494')


def bits(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


def to_f64(d):
    """d rounded to the nearest float64 (fractions.Fraction rounds correctly)."""
    return float(Fraction(d))


def cos(x):
    s, term, k = D(0), D(1), 0
    while abs(term) > D(10) ** -58:
        s += term
        k += 2
        term = -term * x * x / D(k - 1) / D(k)
    return s


def interpolant(f, lo, hi, n):
    """The coefficients (constant term first, each rounded to float64) of the polynomial of degree
    n - 1 through f at the n Chebyshev nodes of [lo, hi] (Gauss-Jordan on the Vandermonde system)."""
    nodes = [(lo + hi) / 2 + (hi - lo) / 2 * cos((2 * k + 1) * PI / D(2 * n)) for k in range(n)]
    A = [[r ** i for i in range(n)] + [f(r)] for r in nodes]
    for c in range(n):
        p = max(range(c, n), key=lambda i: abs(A[i][c]))
        A[c], A[p] = A[p], A[c]
        for i in range(n):
            if i != c:
                g = A[i][c] / A[c][c]
                A[i] = [a - g * b for a, b in zip(A[i], A[c])]
    return [to_f64(A[i][n] / A[i][i]) for i in range(n)]
