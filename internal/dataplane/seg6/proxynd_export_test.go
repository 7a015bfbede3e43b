package seg6

// NeighborAdvertisement exposes the unsolicited Neighbour Advertisement
// builder to the golden test.
var NeighborAdvertisement = neighborAdvertisement
