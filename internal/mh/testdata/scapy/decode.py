#!/usr/bin/python3
"""Dissect IPv6 packets carrying a Mobility Header with scapy.

Reads hex packets from stdin, one per line (blank lines are skipped), and
prints for each one line of JSON with the fields scapy dissected, named as in
the .json files gen.py writes, plus what scapy thinks of the packet:

  mh_class           the scapy class that dissected the Mobility Header
  cksum_recomputed   the checksum scapy computes when the packet is rebuilt
                     with chksum=None
  cksum_ok           cksum_recomputed == cksum
  rebuild_identical  the rebuilt packet (checksum recomputed) is the input
  trailing           hex of what scapy left after the Mobility Header layer

A line that cannot be dissected gives {"error": "..."}.

Run it with the system python, which has scapy (Debian: python3-scapy):

  echo 6000...  | /usr/bin/python3 internal/mh/testdata/scapy/decode.py

internal/mh/conformance_test.go runs it; gen.py imports describe() from it so
that the committed .json files and this script always agree on names.

Two scapy 2.5.0 bugs are worked around here, both documented where they are:
the checksum pseudo-header ignores a Home Address option that shares its
Destination Options header with padding (so every dissected HAO packet), and
MIP6MH_Generic reads 8 octets too few of an unknown message type.
"""

import json
import sys

from scapy.layers.inet6 import (
    HAO,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BRR,
    MIP6MH_BU,
    MIP6MH_Generic,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptAltCoA,
    MIP6OptBindingAuthData,
    MIP6OptBRAdvice,
    MIP6OptMobNetPrefix,
    MIP6OptNonceIndices,
    Pad1,
    PadN,
    _MobilityHeader,
)
from scapy.packet import raw

BU_FLAGS = "AHLKMRP"  # wire order, most significant bit first
BA_FLAGS = "KRP"


def flag_dict(flags, names):
    return {n: bool(n in flags) for n in names}


def describe_option(o):
    """One mobility option as a dict: type, len (absent for Pad1), values."""
    if isinstance(o, Pad1):
        return {"type": 0}
    d = {"type": o.otype, "len": raw(o)[1]}
    if isinstance(o, PadN):
        d["data"] = bytes(o.optdata).hex()
    elif isinstance(o, MIP6OptBRAdvice):
        d["refresh_interval"] = o.rinter
    elif isinstance(o, MIP6OptAltCoA):
        d["addr"] = o.acoa
    elif isinstance(o, MIP6OptNonceIndices):
        d["home_nonce_index"] = o.hni
        d["careof_nonce_index"] = o.coni
    elif isinstance(o, MIP6OptBindingAuthData):
        d["authenticator"] = o.authenticator.to_bytes(12, "big").hex()
    elif isinstance(o, MIP6OptMobNetPrefix):
        d["reserved"] = o.reserved
        d["prefix_len"] = o.plen
        d["prefix"] = o.prefix
    else:  # MIP6OptUnknown and the option classes of other RFCs
        d["data"] = raw(o)[2:].hex()
    return d


def describe_mh(mh):
    """The Mobility Header fields scapy dissected, by message type."""
    d = {
        "proto": mh.nh,
        "hlen": mh.len,
        "type": mh.mhtype,
        "mh_reserved": mh.res,
        "cksum": mh.cksum,
    }
    if isinstance(mh, MIP6MH_BRR):
        d["reserved"] = mh.res2
    elif isinstance(mh, MIP6MH_HoTI):  # and MIP6MH_CoTI, its subclass
        d["reserved"] = int.from_bytes(mh.reserved.ljust(2, b"\0"), "big")
        d["cookie"] = mh.cookie.ljust(8, b"\0").hex()
    elif isinstance(mh, MIP6MH_HoT):  # and MIP6MH_CoT, its subclass
        d["nonce_index"] = mh.index
        d["cookie"] = mh.cookie.ljust(8, b"\0").hex()
        d["token"] = mh.token.ljust(8, b"\0").hex()
    elif isinstance(mh, MIP6MH_BU):
        d["seq"] = mh.seq
        d["flags"] = flag_dict(mh.flags, BU_FLAGS)
        d["flags_reserved"] = mh.reserved
        d["lifetime"] = mh.mhtime
    elif isinstance(mh, MIP6MH_BA):
        d["status"] = mh.status
        d["flags"] = flag_dict(mh.flags, BA_FLAGS)
        d["flags_reserved"] = mh.res2
        d["seq"] = mh.seq
        d["lifetime"] = mh.mhtime
    elif isinstance(mh, MIP6MH_BE):
        d["status"] = mh.status
        d["reserved"] = mh.reserved
        d["home_address"] = mh.ha
    elif isinstance(mh, MIP6MH_Generic):
        # scapy bug: MIP6MH_Generic's msg field is 8*len-6 octets long where
        # the message body is 8*len+2, so the last 8 octets end up in the
        # payload (reported as "trailing"); "data" is what scapy put in msg.
        d["data"] = bytes(mh.msg).hex()
    if not isinstance(mh, MIP6MH_Generic):
        d["options"] = [describe_option(o) for o in mh.options]
    return d


def mobility_header(pkt):
    """The Mobility Header layer of pkt, whatever its class, or None.
    (getlayer(_MobilityHeader) matches the class exactly, not subclasses.)"""
    layer = pkt
    while layer:
        if isinstance(layer, _MobilityHeader):
            return layer
        layer = layer.payload
    return None


def recompute_checksum(pkt):
    """Rebuild pkt with chksum=None; return (checksum, rebuilt bytes)."""
    q = pkt.copy()
    mobility_header(q).cksum = None
    # scapy bug: in6_pseudoheader takes the home address as the pseudo-header
    # source only when HAO is the *only* option of its Destination Options
    # header. A dissected header also holds the padding before HAO (8n+6
    # alignment), so scapy would use the care-of address. Drop the padding:
    # autopad puts the same octets back, and rebuild_identical checks that.
    layer = q.getlayer(IPv6ExtHdrDestOpt)
    while layer is not None:
        if any(isinstance(o, HAO) for o in layer.options):
            layer.options = [o for o in layer.options if not isinstance(o, (Pad1, PadN))]
        layer = layer.payload.getlayer(IPv6ExtHdrDestOpt)
    rebuilt = raw(q)
    return mobility_header(IPv6(rebuilt)).cksum, rebuilt


def describe(b):
    """Everything the Go test compares, for the IPv6 packet in bytes b."""
    pkt = IPv6(b)
    mh = mobility_header(pkt)
    if mh is None:
        raise ValueError("scapy found no Mobility Header in %s" % pkt.summary())
    d = {"tc": pkt.tc, "fl": pkt.fl, "hlim": pkt.hlim, "src": pkt.src, "dst": pkt.dst,
         "hoa": None, "rh2": None, "rh2_segleft": None}
    dest = pkt.getlayer(IPv6ExtHdrDestOpt)
    if dest is not None:
        for o in dest.options:
            if isinstance(o, HAO):
                d["hoa"] = o.hoa
    rh = pkt.getlayer(IPv6ExtHdrRouting)
    if rh is not None and rh.type == 2:
        d["rh2"] = rh.addresses[0] if rh.addresses else None
        d["rh2_segleft"] = rh.segleft
    d.update(describe_mh(mh))
    d["mh_class"] = type(mh).__name__
    d["trailing"] = raw(mh.payload).hex()
    d["cksum_recomputed"], rebuilt = recompute_checksum(pkt)
    d["cksum_ok"] = d["cksum_recomputed"] == d["cksum"]
    d["rebuild_identical"] = rebuilt == b
    return d


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = describe(bytes.fromhex(line))
        except Exception as e:  # one bad packet must not hide the others
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(out, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
