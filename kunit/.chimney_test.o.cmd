savedcmd_/work/main/kunit/chimney_test.o := ld -m elf_x86_64 -z noexecstack --no-warn-rwx-segments   -r -o /work/main/kunit/chimney_test.o @/work/main/kunit/chimney_test.mod  ; ./tools/objtool/objtool --hacks=jump_label --hacks=noinstr --ibt --static-call --uaccess  --link  --module /work/main/kunit/chimney_test.o

/work/main/kunit/chimney_test.o: $(wildcard ./tools/objtool/objtool)
