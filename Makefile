# The README's two commands:
#   make demo    build the program and run the main demo on the simulated network
#   make check   build with gcc, clang and ASan+UBSan, run every test, fuzz
# Both install missing Debian packages first (as root).
.PHONY: demo check build clean format

build:
	@scripts/deps.sh demo
	@cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DTCPW_TESTS=OFF >/dev/null
	@cmake --build build/release

demo: build
	@build/release/tcpwave demo

check:
	@scripts/check.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
