" Vim syntax for TIR text (Apache TVM TensorIR in TVMScript syntax), for editors without
" semantic tokens (Neovim 0.7, Vim). With tir-lsp's semantic tokens, those win.
if exists("b:current_syntax")
  finish
endif

syn keyword tirStatement def class return pass assert del
syn keyword tirConditional if elif else
syn keyword tirRepeat for while in
syn keyword tirOperator and or not is
syn keyword tirStructure with as
syn keyword tirConstant True False None
syn match tirDecorator "@\s*\h\w*\%(\.\h\w*\)*"
" T.* builtins and types, I.* module constructs, R.* relax.
syn match tirBuiltin "\<[TIR]\.\h\w*\%(\.\h\w*\)*"
syn match tirType "\<T\.\%(u\?int\d\+\|float\d\+\|bfloat16\|bool\|handle\|void\|Buffer\|Tensor\|Ptr\)\>"
syn match tirFunction "\%(\<def\s\+\)\@<=\h\w*"
syn match tirNumber "\<\d\+\%(\.\d*\)\?\%([eE][+-]\?\d\+\)\?\>"
syn match tirNumber "\<0[xX]\x\+\>"
syn region tirString start=+"+ skip=+\\\\\|\\"+ end=+"+ oneline contains=tirDtype
syn region tirString start=+'+ skip=+\\\\\|\\'+ end=+'+ oneline contains=tirDtype
syn match tirDtype "\%(u\?int\|float\|bfloat\)\d\+\%(x\d\+\)\?" contained
syn match tirComment "#.*$" contains=tirTodo
syn keyword tirTodo TODO FIXME XXX contained

hi def link tirStatement Statement
hi def link tirConditional Conditional
hi def link tirRepeat Repeat
hi def link tirOperator Operator
hi def link tirStructure Structure
hi def link tirConstant Constant
hi def link tirDecorator PreProc
hi def link tirBuiltin Function
hi def link tirType Type
hi def link tirFunction Function
hi def link tirNumber Number
hi def link tirString String
hi def link tirDtype Type
hi def link tirComment Comment
hi def link tirTodo Todo

let b:current_syntax = "tir"
