"""Hostile quiz packs, shared by the reliability tests and the benchmarks."""

HOSTILE = {
    "python tag": b"!!python/object/apply:os.system ['echo hacked']\n",
    "billion laughs": b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n".encode() for p, n in zip("abcdefgh", "bcdefghi")),
    "deep nesting": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "binary": bytes(range(256)) * 100,
    "latin-1": "id: café\ntitle: Café\n".encode("latin-1"),
    "wrong types": b"id: [1]\ntitle: {a: b}\nquestions:\n  - id: 5\n    kind: 7\n    prompt: [x]\n"
                   b"    answer: {}\n    choices: yes\n    explanation: []\n    tags: x\n",
    "100,000 questions by alias": b"id: huge\ntitle: Huge\nq: &q {id: q, kind: typed, prompt: Q?, "
                                  b"answer: A, explanation: x, context: y}\nquestions: [" +
                                  b", ".join([b"*q"] * 100_000) + b"]\n",
    "100,000 questions": b"id: huge\ntitle: Huge\nquestions:\n" + b"".join(
        f"  - {{id: q{i}, kind: typed, prompt: Q?, answer: A, explanation: x, context: y}}\n".encode()
        for i in range(100_000)),
}
