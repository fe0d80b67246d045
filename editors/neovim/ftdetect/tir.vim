" TIR text (TVMScript) and the TIR stages in a Model Library Format archive's src/.
autocmd BufRead,BufNewFile *.tir,*/src/tir-*.txt setfiletype tir
