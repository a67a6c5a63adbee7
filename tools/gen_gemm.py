#!/usr/bin/env python3
"""Generates Sprout's gemm sources that are not written by hand.

1. The unrolled Vector API micro-kernels inside VectorKernelF32.java (between the @generated markers):
   an MR x NV-vector register tile, one method per packed-A layout (row layout, k-major layout).
2. Every *F64.java from its *F32.java template: float -> double, Float -> Double, F32 -> F64, 1f -> 1d.
   Lower-case "f32" (prose in comments) is left alone on purpose.

Usage: python3 tools/gen_gemm.py   (rewrites the files in engine-java/.../backend/java; run it after editing a template and
commit the outputs; the build does not run it).
"""
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent.parent / "engine-java/src/main/java/dev/sprout/backend/java"
TEMPLATES = ["NaiveF32.java", "PanelsF32.java", "MicroKernelF32.java", "ScalarKernelF32.java",
             "PackedGemmF32.java", "VectorKernelF32.java", "LoweringF32.java"]
MR = 8   # rows of the register tile (broadcast A~ values per k)
NV = 2   # vectors per row of the register tile (B~ vectors per k)
BEGIN = "    // @generated-begin micro-kernels (gen_gemm.py)\n"
END = "    // @generated-end\n"


def micro_kernel(method, row_layout, edge):
    """One kernel method: the k loop, then either the full-tile store to C (beta == 0 or general) or, for edge
    tiles, a spill of the accumulators to the scratch tile. Kept apart so that each method stays small enough
    for C1's tier-3 compile (the big combined method failed with 'out of virtual registers', and then never
    reached C2)."""
    acc = [[f"c{r}{v}" for v in range(NV)] for r in range(MR)]
    ind = "    "
    o = []
    doc = ("A~ in row layout: (r, p) at aOff + r * KCS + p" if row_layout
           else "A~ in k-major layout: (r, p) at aOff + p * MR + r")
    what = "edge tile: accumulators to the scratch tile, then the valid corner to C" if edge else "full tile"
    o.append(f"{ind}/** {MR} x {NV} vectors, {what}; {doc}. */")
    if edge:
        o.append(f"{ind}private static void {method}(int kc, float[] a, int aOff, float[] b, int bOff, float alpha, float beta,")
        o.append(f"{ind}        float[] c, int cOff, int ldc, int mv, int nv, float[] t) {{")
    else:
        o.append(f"{ind}private static void {method}(int kc, float[] a, int aOff, float[] b, int bOff, float alpha, float beta,")
        o.append(f"{ind}        float[] c, int cOff, int ldc) {{")
    for r in range(MR):
        o.append(f"{ind}    FloatVector " + ", ".join(f"{x} = FloatVector.zero(S)" for x in acc[r]) + ";")
    o.append(f"{ind}    for (int p = 0; p < kc; p++) {{")
    if row_layout:
        o.append(f"{ind}        int ai = aOff + p;")
    else:
        o.append(f"{ind}        int ai = aOff + p * MR;")
    o.append(f"{ind}        int bi = bOff + p * NR;")
    for v in range(NV):
        off = "" if v == 0 else (" + L" if v == 1 else f" + {v} * L")
        o.append(f"{ind}        FloatVector b{v} = FloatVector.fromArray(S, b, bi{off});")
    o.append(f"{ind}        FloatVector x;")
    for r in range(MR):
        if row_layout:
            idx = "ai" if r == 0 else ("ai + KCS" if r == 1 else f"ai + {r} * KCS")
        else:
            idx = "ai" if r == 0 else f"ai + {r}"
        fmas = " ".join(f"{acc[r][v]} = x.fma(b{v}, {acc[r][v]});" for v in range(NV))
        o.append(f"{ind}        x = FloatVector.broadcast(S, a[{idx}]);")
        o.append(f"{ind}        {fmas}")
    o.append(f"{ind}    }}")

    def coff(r, v):
        row = "cOff" if r == 0 else ("cOff + ldc" if r == 1 else f"cOff + {r} * ldc")
        return row + ("" if v == 0 else (" + L" if v == 1 else f" + {v} * L"))

    if not edge:
        o.append(f"{ind}    FloatVector va = FloatVector.broadcast(S, alpha);")
        o.append(f"{ind}    if (beta == 0f) {{")
        for r in range(MR):
            o.append(f"{ind}        " + " ".join(f"{acc[r][v]}.mul(va).intoArray(c, {coff(r, v)});" for v in range(NV)))
        o.append(f"{ind}    }} else {{")
        o.append(f"{ind}        FloatVector vb = FloatVector.broadcast(S, beta);")
        for r in range(MR):
            for v in range(NV):
                o.append(f"{ind}        {acc[r][v]}.fma(va, FloatVector.fromArray(S, c, {coff(r, v)}).mul(vb)).intoArray(c, {coff(r, v)});")
        o.append(f"{ind}    }}")
    else:
        for r in range(MR):
            parts = []
            for v in range(NV):
                toff = ("0" if r == 0 else ("NR" if r == 1 else f"{r} * NR")) if v == 0 else \
                       (("L" if r == 0 else ("NR + L" if r == 1 else f"{r} * NR + L")) if v == 1 else f"{r} * NR + {v} * L")
                parts.append(f"{acc[r][v]}.intoArray(t, {toff});")
            o.append(f"{ind}    " + " ".join(parts))
        o.append(f"{ind}    storeEdge(t, NR, mv, nv, alpha, beta, c, cOff, ldc);")
    o.append(f"{ind}}}")
    return "\n".join(o) + "\n"


def fill_kernels(text):
    i, j = text.index(BEGIN), text.index(END)
    body = "".join("\n" + micro_kernel(name, rows, edge) for name, rows, edge in
                   (("rows", True, False), ("kMajor", False, False), ("rowsEdge", True, True), ("kMajorEdge", False, True)))
    return text[:i + len(BEGIN)] + body + text[j:]


def to_f64(text, template):
    out = text.replace("F32", "F64").replace("Float", "Double")
    out = re.sub(r"\bfloat\b", "double", out)
    out = re.sub(r"\b(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)f\b", r"\1d", out)
    header = (f"// GENERATED by gen_gemm.py from {template}: do not edit; edit the template and run\n"
              f"// python3 tools/gen_gemm.py from the repository root.\n")
    return header + out


def main():
    for name in TEMPLATES:
        path = HERE / name
        text = path.read_text()
        if BEGIN in text:
            text = fill_kernels(text)
            path.write_text(text)
        (HERE / name.replace("F32", "F64")).write_text(to_f64(text, name))


if __name__ == "__main__":
    main()
