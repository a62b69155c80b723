# The README's two commands:
#   make demo    build the program and run the main demo on the simulated network
#   make check   build with gcc, clang and ASan+UBSan, run every test, fuzz
# Both install missing Debian packages first (as root).
.PHONY: demo check build bench clean format

build:
	@scripts/deps.sh demo
	@cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DTCPW_TESTS=OFF >/dev/null
	@cmake --build build/release

demo: build
	@build/release/tcpwave demo

check:
	@scripts/check.sh

# Every benchmark of BENCHMARKS.md, each beside its Linux baseline (root).
bench:
	@scripts/deps.sh demo
	@sh bench/run-timewait.sh --records 1000000,10000000 --runs 5
	@sh bench/run-connect.sh --runs 5

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
