savedcmd_/work/main/module/chimney.o := ld -m elf_x86_64 -z noexecstack --no-warn-rwx-segments   -r -o /work/main/module/chimney.o @/work/main/module/chimney.mod  ; ./tools/objtool/objtool --hacks=jump_label --hacks=noinstr --ibt --static-call --uaccess  --link  --module /work/main/module/chimney.o

/work/main/module/chimney.o: $(wildcard ./tools/objtool/objtool)
