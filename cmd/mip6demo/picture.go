package main

// picture is the lab (internal/lab) as drawn for step 1; picture_test.go
// checks that it shows the lab's current addresses and interface names.
const picture = `
      CN (correspondent)     HA (Home Agent)                       MN (mobile node)
  +-----------------+     +----------------------------+          +----------------------------+
  | 2001:db8:f::2   |     | HA address 2001:db8:1::1   |          | home address               |
  | default via     |     | home prefix                |          |   2001:db8:1::100          |
  |   2001:db8:f::1 |     |   2001:db8:1::/64          |  access  |                            |
  |             cn0 +-----+ h0 2001:db8:f::1        a1 +--link 1--+ m1 2001:db8:a::2  (CoA1)   |
  |                 |     |    2001:db8:a::1 on a1     |          |    default via a::1 m100   |
  |                 |     |    2001:db8:b::1 on a2  a2 +--link 2--+ m2 2001:db8:b::2  (CoA2)   |
  |                 |     |                            |  access  |    default via b::1 m200   |
  +-----------------+     +----------------------------+          +----------------------------+
  every link a /64; the HA address sits on the HA's lo; link 1 is preferred (route metric 100 < 200)

  CN -> HoA:  CN ---> HA ===( IPv6-in-IPv6: outer HA address -> care-of address )===> MN
  HoA -> CN:  MN ===( reverse tunnel: outer care-of address -> HA address )===> HA ---> CN
`

// nsmPicture is the NSM lab (internal/nsmlab) as drawn for step 1 of the
// NSM story; picture_test.go checks that it shows the lab's addresses and
// names.
const nsmPicture = `
  in-process NSM domain: registry, nsmgr and our veth forwarder; mTLS and JWT with SPIFFE IDs
  from a development CA (spiffe://mip6mesh.demo/...); the daemons reach it over unix sockets

   CN (correspondent)       HA 1: endpoint ha-1                    MN 1: client mn-1
  +------------------+     +-------------------------------+      +---------------------------------+
  | hl0 bridge       | p1  | h0 2001:db8:1::1              |      | nsm-1 (made by the forwarder)   |
  |  = the home link |-----|  = Home Agent address         |======|   care-of address from the      |
  | 2001:db8:1::/64  |     | vWires from fd00:6d36:1::/120 |vWire |   serving HA's vWire prefix     |
  |                  |     +-------------------------------+      | home address: derived from      |
  | CN 2001:db8:1::f |      HA 2: endpoint ha-2                   |   spiffe://mip6mesh.demo/mn-1   |
  |                  |     +-------------------------------+      +---------------------------------+
  |                  | p2  | h0 2001:db8:1::2              |       MN 2: client mn-2, the same,
  |                  |-----|  = Home Agent address         |         with an identity of its own
  +------------------+     | vWires from fd00:6d36:2::/120 |
                           +-------------------------------+
  the serving HA answers Neighbor Solicitations for the home address on the home link (proxy ND)

  CN -> HoA:  CN ---> HA ===( IPv6-in-IPv6 over the vWire: HA address -> care-of address )===> MN
  HoA -> CN:  MN ===( reverse tunnel over the vWire: care-of address -> HA address )===> HA ---> CN
`
