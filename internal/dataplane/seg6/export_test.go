package seg6

// Abandon drops a started instance the way a crash would: its sockets are
// closed, its kernel objects stay behind.
func Abandon(instance any) {
	switch v := instance.(type) {
	case *homeAgent:
		_ = v.s.close()
		v.s, v.phase = nil, phaseClosed
	case *mobileNode:
		_ = v.s.close()
		v.s, v.phase = nil, phaseClosed
	default:
		panic("seg6.Abandon: not a seg6 instance")
	}
}
