# satload: the two commands a user needs are `make run` and `make test`.
BUILD ?= build
BUILD_TYPE ?= Release
CMAKE_FLAGS ?=

.PHONY: all deps build run test unit asan fuzz functional bench clean

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DSATLOAD_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)
	@web/build.sh $(BUILD)/web
	@echo "built $(BUILD)/satload (web app in $(BUILD)/web)"

run: build
	@mkdir -p var
	./$(BUILD)/satload serve --listen 127.0.0.1:8080 --data ./var

# Everything CI runs: release build and unit tests, ASan+UBSan unit tests, fuzz smoke runs,
# functional and interop tests against the real binaries and real clients.
test:
	@scripts/test.sh all

unit:
	@scripts/test.sh unit

asan:
	@scripts/test.sh asan

fuzz:
	@scripts/test.sh fuzz

functional:
	@scripts/test.sh functional

bench:
	@scripts/install-deps.sh bench
	@bench/run.sh

clean:
	rm -rf build build-san build-asan build-fuzz
