# SPDX-License-Identifier: GPL-2.0
#
# dynswiotlb: user-facing targets. The module itself is described by Kbuild.
#
#   make                 build dynswiotlb.ko for the running kernel
#   make KERNELRELEASE=X build it for installed kernel X (or KDIR=/path/to/build)
#   make check           the test suite: four Debian kernels under QEMU
#   make demo            the swiotlb-full stall, then the module fixing it
#   make bench           benchmarks against the kernel's own paths (bench/)
#   make install         modules_install into /lib/modules/$(KERNELRELEASE)
#   make dkms-install    register, build and install through DKMS
#   make tool            build tools/dynswiotlbctl (needs libkmod-dev, pkg-config)
#   make install-tool    install it in $(DESTDIR)/usr/sbin, its man page in
#                        $(DESTDIR)/usr/share/man/man8
#   make deb             the Debian packages (dynswiotlb-dkms, dynswiotlbctl)
#                        for this machine's release, in ./debs/

KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
# What DKMS (and a source tarball) ships: the module and its build files.
DKMS_SOURCES := Kbuild Makefile dkms.conf LICENSE module include

all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C selftests clean
	$(MAKE) -C tools/dynswiotlbctl clean

install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install
	depmod -a $(KERNELRELEASE)

# Copy the DKMS sources to $(DEST), without build artefacts.
dkms-sources:
	@test -n "$(DEST)" || { echo "dkms-sources: DEST= is required" >&2; exit 1; }
	mkdir -p $(DEST)
	tar -C $(CURDIR) --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
		--exclude='.*.cmd' --exclude='Module.symvers' --exclude='modules.order' \
		-cf - $(DKMS_SOURCES) | tar -C $(DEST) -xf -

dkms-install:
	dkms remove -m dynswiotlb -v $(VERSION) --all 2>/dev/null || true
	rm -rf /usr/src/dynswiotlb-$(VERSION)
	$(MAKE) dkms-sources DEST=/usr/src/dynswiotlb-$(VERSION)
	dkms add -m dynswiotlb -v $(VERSION)
	dkms build -m dynswiotlb -v $(VERSION) -k $(KERNELRELEASE)
	dkms install -m dynswiotlb -v $(VERSION) -k $(KERNELRELEASE)

# The userspace tool: not part of `make` (DKMS builds the module only).
tool:
	$(MAKE) -C tools/dynswiotlbctl VERSION=$(VERSION)

install-tool: tool
	$(MAKE) -C tools/dynswiotlbctl VERSION=$(VERSION) DESTDIR=$(DESTDIR) install

check:
	selftests/qemu/run.sh

demo:
	selftests/qemu/demo.sh

bench:
	bench/run.sh

deb:
	selftests/qemu/deb.sh $(shell . /etc/os-release && echo $$VERSION_CODENAME) $(CURDIR)/debs

.PHONY: all module clean install dkms-sources dkms-install tool install-tool check demo bench deb
