package server

// Routes lists the patterns s serves, for the OpenAPI test.
func Routes(s *Server) []string {
	var out []string
	for _, rt := range s.routes {
		out = append(out, rt.pattern())
	}
	return out
}
