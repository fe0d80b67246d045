"""Front ends: models (ONNX) -> a graph of operators -> fused PrimFuncs in TIR."""
