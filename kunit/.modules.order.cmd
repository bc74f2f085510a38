savedcmd_/work/main/kunit/modules.order := {   echo /work/main/kunit/chimney_test.o; :; } > /work/main/kunit/modules.order
