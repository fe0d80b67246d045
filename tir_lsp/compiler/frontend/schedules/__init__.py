"""Loop schedules for the heavy operators, built as IR with a ``StageWriter``:
a register-blocked GEMM micro-kernel (``gemm.py``) that convolution (through im2col),
Gemm and MatMul share. The operator picks the schedule from its shapes; the block names
say which one (``conv2d_im2col``, ``conv2d_gemm_8x8``, ...), so ``--print-after`` shows it."""
