"""``python -m tir_lsp``: the same as the ``tir-lsp`` command."""

import sys

from tir_lsp.cli import main

sys.exit(main())
