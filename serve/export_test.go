package serve

// InFlight is how many requests are being scored, for tests.
func (s *Server) InFlight() int64 { return s.inflight.Load() }
