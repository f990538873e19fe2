# SPDX-License-Identifier: GPL-2.0
# Guest-side helpers of the network selftests (busybox sh): the two NICs of
# the "net" device class (selftests/qemu/vm.sh: virtio-net at 06.0 and
# e1000e at 07.0, on one QEMU hub joined to nothing else), one of them in a
# network namespace of its own so that traffic between them crosses both.

DSW_VNET_BDF=$(dsw_pci_find 0x1af4 0x1041)	# modern virtio-net
DSW_E1000E_BDF=$(dsw_pci_find 0x8086 0x10d3)	# 82574L
DSW_NET_A=169.254.1.1	# virtio-net, in the first namespace
DSW_NET_B=169.254.1.2	# e1000e, in its own
DSW_NET_PORT=5001

# dsw_netdev BDF: the network interface of a PCI NIC (a virtio NIC's is
# its virtio device's), in the caller's namespace.
dsw_netdev() {
	for _n in /sys/bus/pci/devices/"$1"/net/* /sys/bus/pci/devices/"$1"/virtio*/net/*; do
		[ -e "$_n" ] && basename "$_n" && return 0
	done
	return 1
}

# dsw_net_load_drivers: both NIC drivers (virtio_pci is built in on 6.12
# and later), and both interfaces present.
dsw_net_load_drivers() {
	modprobe virtio_pci 2>/dev/null
	modprobe virtio_net && modprobe e1000e || return 1
	dsw_probe "$DSW_VNET_BDF"
	dsw_probe "$DSW_E1000E_BDF"
	_i=0
	while ! { dsw_netdev "$DSW_VNET_BDF" && dsw_netdev "$DSW_E1000E_BDF"; } >/dev/null &&
			[ $_i -lt 100 ]; do
		usleep 100000
		_i=$((_i + 1))
	done
	dsw_netdev "$DSW_VNET_BDF" >/dev/null && dsw_netdev "$DSW_E1000E_BDF" >/dev/null
}

# dsw_net_up: a namespace for e1000e (held by a sleeping task: busybox's
# ip moves an interface by PID only), addresses, links up. Sets
# DSW_NET_NS (that PID), DSW_NET_IFA and DSW_NET_IFB (the interfaces).
dsw_net_up() {
	DSW_NET_IFA=$(dsw_netdev "$DSW_VNET_BDF") &&
		DSW_NET_IFB=$(dsw_netdev "$DSW_E1000E_BDF") || return 1
	unshare -n sleep 100000 </dev/null >/dev/null 2>&1 &
	DSW_NET_NS=$!
	# A test killed by the runner's timeout must not leave e1000e in the
	# namespace for the next one.
	trap 'kill $DSW_NET_NS 2>/dev/null' EXIT TERM
	_i=0
	while [ "$(readlink /proc/$DSW_NET_NS/ns/net)" = "$(readlink /proc/self/ns/net)" ] &&
			[ $_i -lt 50 ]; do
		usleep 100000
		_i=$((_i + 1))
	done
	ip link set dev "$DSW_NET_IFB" netns "$DSW_NET_NS" &&
		ip addr add "$DSW_NET_A/16" dev "$DSW_NET_IFA" &&
		ip link set "$DSW_NET_IFA" up &&
		dsw_net_in_ns sh -c "ip link set lo up &&
			ip addr add $DSW_NET_B/16 dev $DSW_NET_IFB &&
			ip link set $DSW_NET_IFB up"
}

# dsw_net_in_ns CMD...: run CMD in e1000e's namespace.
dsw_net_in_ns() {
	nsenter -t "$DSW_NET_NS" -n "$@"
}

# dsw_net_reach SECONDS: the first namespace reaches the second (ARP and
# one ping answered: e1000e's link takes some 4 s to come up); fails
# after SECONDS.
dsw_net_reach() {
	_i=0
	while [ $_i -lt "$1" ]; do
		ping -c 1 -W 1 "$DSW_NET_B" >/dev/null 2>&1 && return 0
		_i=$((_i + 1))
	done
	return 1
}

# dsw_net_duplex A B SECONDS: one TCP connection carrying file A from the
# first namespace to the second and file B back at the same time (busybox
# nc: each side half-closes at its input's end and exits at the peer's);
# what arrived in A.rx and B.rx. Both ends are bounded by SECONDS: a dead
# link fails, it never hangs.
dsw_net_duplex() {
	rm -f "$1.rx" "$2.rx"
	dsw_net_in_ns timeout "$3" nc -l -p "$DSW_NET_PORT" <"$2" >"$1.rx" 2>/dev/null &
	_srv=$!
	# Connect once the listener is up (LISTEN is state 0A in /proc/net/tcp).
	_i=0
	while ! dsw_net_in_ns cat /proc/net/tcp |
			grep -qi ":$(printf %04X "$DSW_NET_PORT") 00000000:0000 0A" &&
			[ $_i -lt 100 ]; do
		usleep 100000
		_i=$((_i + 1))
	done
	timeout "$3" nc "$DSW_NET_B" "$DSW_NET_PORT" <"$1" >"$2.rx" 2>/dev/null
	_rc=$?
	wait "$_srv" || _rc=1
	return $_rc
}

# dsw_net_counters IF [ns]: an interface's counters from /proc/net/dev (in
# e1000e's namespace with "ns"), as "rx_packets rx_errs rx_drop tx_packets
# tx_errs tx_drop".
dsw_net_counters() {
	if [ "${2:-}" = ns ]; then
		dsw_net_in_ns cat /proc/net/dev
	else
		cat /proc/net/dev
	fi | sed -n "s/^ *$1: *//p" | awk '{ print $2, $3, $4, $10, $11, $12 }'
}

# dsw_net_down: links down, the namespace gone (its interface returns to
# the first namespace).
dsw_net_down() {
	dsw_net_in_ns ip link set "$DSW_NET_IFB" down 2>/dev/null
	ip link set "$DSW_NET_IFA" down 2>/dev/null
	kill "$DSW_NET_NS" 2>/dev/null
	wait "$DSW_NET_NS" 2>/dev/null
	return 0
}

# dsw_net_unbind: both NICs without a driver.
dsw_net_unbind() {
	dsw_unbind "$DSW_VNET_BDF"
	dsw_unbind "$DSW_E1000E_BDF"
}

# dsw_net_hog: e1000e, without the module, brought up in the first
# namespace with no address: its receive ring (256 buffers of 2 KiB) takes
# the whole of a 256 KiB static pool and keeps it, as a wifi card's did in
# kernel bugzilla 217310 (and an AX210's on a Raspberry Pi CM4, starving
# its SD controller). Fails unless the pool is then full.
dsw_net_hog() {
	_hn=
	modprobe e1000e || return 1
	dsw_probe "$DSW_E1000E_BDF"
	_i=0
	while ! _hn=$(dsw_netdev "$DSW_E1000E_BDF") && [ $_i -lt 100 ]; do
		usleep 100000
		_i=$((_i + 1))
	done
	[ -n "$_hn" ] && ip link set "$_hn" up || return 1
	sleep 1
	[ "$(cat /sys/kernel/debug/swiotlb/io_tlb_used)" = \
		"$(cat /sys/kernel/debug/swiotlb/io_tlb_nslabs)" ]
}

# dsw_net_hog_end: the pool given back (the link down frees the ring).
dsw_net_hog_end() {
	_hn=$(dsw_netdev "$DSW_E1000E_BDF") && ip link set "$_hn" down
	dsw_unbind "$DSW_E1000E_BDF"
}

# dsw_net_rx_stalls: prints why, and succeeds, on a kernel whose
# virtio-net stops receiving under this load whatever the module does (the
# transfers are then not run). 7.3's receive path (page_pool, two buffers
# per page) stops for good after some 12,700 packets of a bulk transfer
# with trixie's QEMU 10.0: measured on 7.3.4+deb13 with the module, without
# it through a forced 128 MiB pool, and without it and without any
# bouncing (swiotlb=noforce, 1 GiB: no pool); docs/notes/device-breadth.md.
dsw_net_rx_stalls() {
	case "$(uname -r)" in
	7.3.*)
		echo "7.3's virtio-net stops receiving after ~12,700 packets, without the module and without bouncing too"
		return 0
		;;
	esac
	return 1
}
