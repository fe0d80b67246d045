"""TIR text: Lark parser -> syntax tree -> IR with spans; printer IR -> TVMScript."""
