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
