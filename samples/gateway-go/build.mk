# The sample gateway in Go (samples/gateway-go/), on cilium/ebpf, built
# offline from Debian's packages in GOPATH mode:
#   apt-get install golang-go golang-github-cilium-ebpf-dev
# Two binaries: gateway-go (CGO_ENABLED=0: static, no libc, invisible to
# LD_PRELOAD) and gateway-go-cgo (CGO_ENABLED=1: dynamic, libc).  Where Go
# or cilium/ebpf is missing, `make` says so and builds the rest.
#
#   make demo-go    the Go gateway under `bpfleak run`, then its report
#                   (GATEWAY_GO_VARIANT=cgo for the cgo build)
GO      ?= go
GOCODE  ?= /usr/share/gocode
HAVE_GO := $(shell command -v $(GO) >/dev/null 2>&1 && echo yes)
HAVE_CILIUM := $(shell test -d $(GOCODE)/src/github.com/cilium/ebpf && echo yes)

GATEWAY_GO_OUT    := $(B)/samples/gateway-go
GATEWAY_GO_GOPATH := $(abspath $(B))/gateway-go/gopath
# The embedded datapath, a GOPATH package of the build directory (see
# gatewayobj/object.go): the gateway's own sources build where they are.
GATEWAY_GO_OBJPKG := $(GATEWAY_GO_GOPATH)/src/bpfleak.sample/gatewayobj
GATEWAY_GO_SRCS   := $(wildcard samples/gateway-go/*.go)
GATEWAY_GO_BINS   := $(GATEWAY_GO_OUT)/gateway-go $(GATEWAY_GO_OUT)/gateway-go-cgo
# GOFLAGS and GO111MODULE from the environment must not turn on modules
# (no network here); the cache lives in the build directory, so a CI user
# without a home directory builds too.  CC without a sanitizer's flags.
GATEWAY_GO_ENV = GO111MODULE=off GOFLAGS= GOPATH=$(GATEWAY_GO_GOPATH):$(GOCODE) \
                 GOCACHE=$(abspath $(B))/go-cache CC="$(firstword $(CC))"
GATEWAY_GO_LDFLAGS := -ldflags "-X main.bpfleakVersion=$(VERSION)"

ifeq ($(HAVE_GO)$(HAVE_CILIUM),yesyes)
$(GATEWAY_GO_OBJPKG)/gateway.bpf.o: $(GATEWAY_BPF_OBJ) samples/gateway-go/gatewayobj/object.go
	@mkdir -p $(dir $@)
	cp samples/gateway-go/gatewayobj/object.go $(dir $@)object.go
	cp $(GATEWAY_BPF_OBJ) $@

$(GATEWAY_GO_OUT)/gateway-go: $(GATEWAY_GO_SRCS) $(GATEWAY_GO_OBJPKG)/gateway.bpf.o
	@mkdir -p $(dir $@)
	cd samples/gateway-go && $(GATEWAY_GO_ENV) CGO_ENABLED=0 \
		$(GO) build $(GATEWAY_GO_LDFLAGS) -o $(abspath $@) .

$(GATEWAY_GO_OUT)/gateway-go-cgo: $(GATEWAY_GO_SRCS) $(GATEWAY_GO_OBJPKG)/gateway.bpf.o
	@mkdir -p $(dir $@)
	cd samples/gateway-go && $(GATEWAY_GO_ENV) CGO_ENABLED=1 \
		$(GO) build $(GATEWAY_GO_LDFLAGS) -o $(abspath $@) .

ALL_TARGETS += $(GATEWAY_GO_BINS)
else
ALL_TARGETS += gateway-go-skipped
.PHONY: gateway-go-skipped
gateway-go-skipped:
	@echo "gateway-go: not built: $(if $(HAVE_GO),cilium/ebpf is not in $(GOCODE),no Go toolchain ($(GO)))" \
		"(apt-get install golang-go golang-github-cilium-ebpf-dev)"
endif

.PHONY: demo-go
demo-go: $(B)/.deps-ok all
	@B=$(B) GATEWAY_GO_VARIANT=$(GATEWAY_GO_VARIANT) sh samples/gateway-go/demo.sh

# Builds and runs the Go gateway alone (no bpfleak) in a sandbox.
TEST_SCRIPTS += tests/kernel/go-sample.sh
