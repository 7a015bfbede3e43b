// Package sandboxtest holds no code: its tests run the Home Agent endpoint
// element (chain/homeagent, over a real homeagent.HomeAgent) and the mobile
// node client element (chain/mobilenode) through whole in-process NSM
// domains built by the sdk's sandbox, in one domain and across floating
// interdomain.
package sandboxtest
