#!/usr/bin/python3
"""Generate Mobility Header test vectors with scapy, independently of our codec.

Each vector is a complete IPv6 packet built only with scapy's own classes
(IPv6, IPv6ExtHdrDestOpt + HAO, IPv6ExtHdrRouting type 2, MIP6MH_*, MIP6Opt*)
and written as two files in the output directory:

  <name>.hex   the packet, lowercase hex on one line
  <name>.json  the fields scapy set, dissected back by decode.describe():
               addresses, MH type, Header Len, checksum as scapy computed it,
               message fields (flags as booleans) and the option list with the
               padding scapy inserted itself

Every value is fixed (no randomness), so the output is reproducible; the Go
test TestScapyGeneratorIsReproducible checks that the committed files are
exactly what this script writes. Regenerate them with

  /usr/bin/python3 internal/mh/testdata/scapy/gen.py [output-dir]

(output-dir defaults to the directory of this script). It needs scapy
(Debian: python3-scapy, tested with 2.5.0).

scapy defaults worth knowing, all set explicitly below: MIP6MH_BU flags
default to "KHA" and MIP6MH_BA flags to "K"; MIP6OptNonceIndices and
MIP6OptBindingAuthData default olen to 16 (the RFC 6275 lengths are 4 and 12);
IPv6ExtHdrRouting has no type 2 class of its own, so type=2 is given with the
home address as its single address.
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in testdata
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from decode import describe  # noqa: E402  (the same names for gen and decode)
from scapy.layers.inet6 import (  # noqa: E402
    HAO,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BRR,
    MIP6MH_BU,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptAltCoA,
    MIP6OptBindingAuthData,
    MIP6OptBRAdvice,
    MIP6OptMobNetPrefix,
    MIP6OptNonceIndices,
    MIP6OptUnknown,
)
from scapy.packet import raw  # noqa: E402

# Addresses, all in 2001:db8::/32.
HA = "2001:db8:1::1"  # home agent, on the home link 2001:db8:1::/64
HOA = "2001:db8:1::100"  # the mobile node's home address
COA = "2001:db8:2::100"  # its care-of address on a foreign link
ALT_COA = "2001:db8:4::100"  # an alternate care-of address
CN = "2001:db8:3::1"  # a correspondent node

COOKIE = bytes.fromhex("0123456789abcdef")
TOKEN = bytes.fromhex("fedcba9876543210")
AUTHENTICATOR = 0x0102030405060708090A0B0C  # the 96-bit BAD authenticator


def ip(src, dst):
    return IPv6(src=src, dst=dst, hlim=64, tc=0, fl=0)


def hao(hoa):
    """A Destination Options header with the Home Address option; scapy
    pads it to 8n+6 with a PadN itself."""
    return IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])


def rh2(hoa):
    """The type 2 routing header towards the home address."""
    return IPv6ExtHdrRouting(type=2, segleft=1, addresses=[hoa])


VECTORS = {
    # Binding Refresh Request, HA -> MN at its care-of address.
    "brr_rh2": ip(HA, COA) / rh2(HOA) / MIP6MH_BRR(res2=0),
    # Home Test Init, MN -> CN through the home agent: from the home address.
    "hoti": ip(HOA, CN) / MIP6MH_HoTI(reserved=b"\0\0", cookie=COOKIE),
    # Care-of Test Init, MN -> CN directly from the care-of address.
    "coti": ip(COA, CN) / MIP6MH_CoTI(reserved=b"\0\0", cookie=COOKIE),
    # Home Test, CN -> MN's home address.
    "hot": ip(CN, HOA) / MIP6MH_HoT(index=0x1234, cookie=COOKIE, token=TOKEN),
    # Care-of Test, CN -> MN's care-of address.
    "cot": ip(CN, COA) / MIP6MH_CoT(index=0x4321, cookie=COOKIE, token=TOKEN),
    # The real home registration: MN -> HA from the care-of address, with
    # the Home Address option (the checksum uses the home address); traffic
    # class, flow label and hop limit other than the defaults.
    "bu_hao_home_registration": IPv6(src=COA, dst=HA, tc=0xb8, fl=0x12345, hlim=255) / hao(HOA)
    / MIP6MH_BU(seq=1000, flags="AH", reserved=0, mhtime=150),
    # The HA's answer: to the care-of address, type 2 routing header to the
    # home address, Binding Refresh Advice (2n: right after the 12 fixed
    # octets, no padding needed before or after it).
    "ba_rh2_refresh_advice": ip(HA, COA) / rh2(HOA)
    / MIP6MH_BA(status=0, flags=0, res2=0, seq=1000, mhtime=150,
                options=[MIP6OptBRAdvice(rinter=75)]),
    # BA refusing a BU whose sequence number is out of window.
    "ba_status135": ip(HA, COA) / rh2(HOA)
    / MIP6MH_BA(status=135, flags=0, res2=0, seq=999, mhtime=0),
    # Binding Error: unrecognized MH type, naming the offending home address.
    "be_status2": ip(HA, COA) / MIP6MH_BE(status=2, reserved=0, ha=HOA),
    # BU with an Alternate Care-of Address option (8n+6: scapy pads with a
    # PadN of 2 octets before it).
    "bu_alternate_coa": ip(COA, HA) / hao(HOA)
    / MIP6MH_BU(seq=1001, flags="AH", reserved=0, mhtime=150,
                options=[MIP6OptAltCoA(acoa=ALT_COA)]),
    # Correspondent registration: Nonce Indices then Binding Authorization
    # Data (8n+2), lengths set explicitly (scapy's default olen is 16).
    "bu_nonce_indices_auth_data": ip(COA, CN) / hao(HOA)
    / MIP6MH_BU(seq=7, flags="A", reserved=0, mhtime=60,
                options=[MIP6OptNonceIndices(olen=4, hni=0x0102, coni=0x0304),
                         MIP6OptBindingAuthData(olen=12, authenticator=AUTHENTICATOR)]),
    # NEMO (RFC 3963) mobile router registration with two Mobile Network
    # Prefix options (8n+4: scapy pads 4 octets before the second).
    "bu_mobile_network_prefix": ip(COA, HA) / hao(HOA)
    / MIP6MH_BU(seq=2000, flags="AHR", reserved=0, mhtime=300,
                options=[MIP6OptMobNetPrefix(reserved=0, plen=48, prefix="2001:db8:100::"),
                         MIP6OptMobNetPrefix(reserved=0, plen=64, prefix="2001:db8:101:1::")]),
    # Padding scapy chooses itself: an option of an unassigned type (200)
    # with 3 octets ends at 17, so the 2n-aligned Binding Refresh Advice needs
    # a Pad1, and the header ends with a PadN of 2 octets.
    "ba_unknown_option_pad1": ip(HA, COA) / rh2(HOA)
    / MIP6MH_BA(status=1, flags="K", res2=0, seq=1001, mhtime=100,
                options=[MIP6OptUnknown(otype=200, odata=b"\x01\x02\x03"),
                         MIP6OptBRAdvice(rinter=50)]),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    for name, pkt in sorted(VECTORS.items()):
        b = raw(pkt)
        d = describe(b)
        if not d["cksum_ok"] or not d["rebuild_identical"]:
            sys.exit("%s: scapy does not read back what it built: %s" % (name, d))
        # Keep only what scapy set: the checks above are decode.py's business.
        for k in ("mh_class", "trailing", "cksum_recomputed", "cksum_ok", "rebuild_identical"):
            del d[k]
        with open(os.path.join(out, name + ".hex"), "w") as f:
            f.write(b.hex() + "\n")
        with open(os.path.join(out, name + ".json"), "w") as f:
            f.write(json.dumps(d, sort_keys=True, indent=2) + "\n")


if __name__ == "__main__":
    main()
