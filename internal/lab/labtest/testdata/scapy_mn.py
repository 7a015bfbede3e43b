#!/usr/bin/python3
"""An independent mobile node built on scapy, for the end-to-end tests.

It sends one Binding Update (with a Home Address option) from a care-of
address to a Home Agent on an interface, waits for the answer, and prints
the answer's fields as one JSON object. Run inside the mobile node's
network namespace:

    ip netns exec NS /usr/bin/python3 scapy_mn.py --iface m1 \
        --coa 2001:db8:a::2 --hoa 2001:db8:1::100 --ha 2001:db8:1::1 \
        --seq 7 --lifetime 60 [--mhtype 5] [--timeout 3]

--mhtype other than 5 sends a Mobility Header of that type with the BU's
body, to provoke a Binding Error. --malform breaks the BU: "checksum" (a
wrong checksum), "option" (an Alternate Care-of Address option at the wrong
alignment), "headerlen" (Header Len 0, too small for a BU). --hao-data sends
an ICMPv6 echo request with a Home Address option instead of a BU. The JSON has
"answer": null when nothing came back in time.
"""
import argparse
import json
import sys
import time

import socket
from socket import inet_pton

from scapy.all import AsyncSniffer, raw, send, conf
from scapy.utils import checksum
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, HAO,
                                ICMPv6EchoRequest, ICMPv6ParamProblem, MIP6MH_BU, MIP6MH_BA, MIP6MH_BE,
                                MIP6OptBRAdvice, PseudoIPv6)

conf.verb = 0


def answer_fields(pkt):
    out = {"src": pkt[IPv6].src, "dst": pkt[IPv6].dst}
    if pkt.haslayer(IPv6ExtHdrRouting):
        rh = pkt[IPv6ExtHdrRouting]
        out["routing_type"] = rh.type
        out["routing_segleft"] = rh.segleft
        out["routing_address"] = rh.addresses[0] if rh.addresses else None
    if pkt.haslayer(MIP6MH_BA):
        ba = pkt[MIP6MH_BA]
        out.update(type="BA", status=ba.status, seq=ba.seq, lifetime=ba.mhtime, flags=int(ba.flags))
        if pkt.haslayer(MIP6OptBRAdvice):
            out["refresh_interval"] = pkt[MIP6OptBRAdvice].rinter
    elif pkt.haslayer(MIP6MH_BE):
        be = pkt[MIP6MH_BE]
        out.update(type="BE", status=be.status, home_address=be.ha)
    elif pkt.haslayer(ICMPv6ParamProblem):
        pp = pkt[ICMPv6ParamProblem]
        out.update(type="ParamProblem", status=pp.code, pointer=pp.ptr)
    return out


def with_mobility_header(bu, mh, hoa, ha, checksum_ok=True):
    """Returns bu with its Mobility Header replaced by the bytes mh, whose
    checksum is computed here over the home address (scapy's own rule misses
    a Home Address option that shares its header with padding)."""
    headers = raw(bu)[:-len(raw(bu[MIP6MH_BU]))]
    mh = bytearray(mh)
    mh[4:6] = b"\0\0"
    pseudo = raw(PseudoIPv6(src=hoa, dst=ha, uplen=len(mh), nh=135))
    c = checksum(pseudo + bytes(mh))
    if not checksum_ok:
        c ^= 0xffff
    mh[4:6] = c.to_bytes(2, "big")
    pkt = bytearray(headers + bytes(mh))
    pkt[4:6] = (len(pkt) - 40).to_bytes(2, "big")
    return IPv6(bytes(pkt))


def malformed(bu, how, hoa, ha):
    """Returns the BU broken as asked."""
    mh = bytearray(raw(bu[MIP6MH_BU]))[:12]
    if how == "checksum":
        return with_mobility_header(bu, mh + b"\x01\x02\x00\x00", hoa, ha, checksum_ok=False)
    if how == "option":
        # An Alternate Care-of Address option at offset 13; it needs 8n+6.
        mh[1] = 3
        opt = b"\x03\x10" + inet_pton(socket.AF_INET6, "2001:db8:b::2")
        return with_mobility_header(bu, mh + b"\x00" + opt + b"\x00", hoa, ha)
    if how == "headerlen":
        mh[1] = 0
        return with_mobility_header(bu, mh + b"\x01\x02\x00\x00", hoa, ha)
    raise SystemExit("unknown --malform " + how)


def main():
    ap = argparse.ArgumentParser()
    for name in ("iface", "coa", "hoa", "ha"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--lifetime", type=int, default=60)
    ap.add_argument("--mhtype", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=3)
    ap.add_argument("--malform", default="")
    ap.add_argument("--hao-data", action="store_true")
    a = ap.parse_args()

    bu = (IPv6(src=a.coa, dst=a.ha) /
          IPv6ExtHdrDestOpt(options=[HAO(hoa=a.hoa)]) /
          MIP6MH_BU(seq=a.seq, flags="AH", mhtime=a.lifetime))
    if a.mhtype != 5:
        bu[MIP6MH_BU].mhtype = a.mhtype
    if a.malform:
        bu = malformed(bu, a.malform, a.hoa, a.ha)
    if a.hao_data:
        bu = (IPv6(src=a.coa, dst=a.ha) / IPv6ExtHdrDestOpt(options=[HAO(hoa=a.hoa)]) /
              ICMPv6EchoRequest(id=1, seq=1))

    def is_answer(p):
        # A data packet with a Home Address option also draws the kernel's
        # own Parameter Problem (no kernel MIP6): wait for the Binding Error.
        icmp_ok = not a.hao_data
        return (p.haslayer(IPv6) and p[IPv6].src == a.ha and p[IPv6].dst == a.coa
                and (p.haslayer(MIP6MH_BA) or p.haslayer(MIP6MH_BE) or
                     (icmp_ok and p.haslayer(ICMPv6ParamProblem))))

    sniffer = AsyncSniffer(iface=a.iface, lfilter=is_answer, count=1, timeout=a.timeout)
    sniffer.start()
    time.sleep(0.3)  # let the capture socket open before sending
    send(bu, iface=a.iface)
    sniffer.join()
    got = sniffer.results
    json.dump({"sent": {"seq": a.seq, "lifetime": a.lifetime, "mhtype": a.mhtype, "malform": a.malform},
               "answer": answer_fields(got[0]) if got else None}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
