package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// newHAProxy writes a config that balances the serve nodes round-robin,
// checks each on /readyz every 500 ms (two failures take it out, two
// successes bring it back), and retries a refused connection on the other
// node, as a production load balancer would.
func newHAProxy(tmp string, port int, backends []int, env []string) (*proc, error) {
	var servers strings.Builder
	for i, b := range backends {
		fmt.Fprintf(&servers, "  server node%d 127.0.0.1:%d check\n", i+1, b)
	}
	conf := fmt.Sprintf(`global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 65s
  timeout server 65s
  timeout http-request 10s
  # /readyz answers within about 2 s (each check has a 2 s budget), so a
  # slow Redis check must not read as a dead node.
  timeout check 3s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response
  # No idle keep-alive connections to the nodes, so goroutine counts
  # read at rest are not inflated by them.
  option http-server-close
frontend soak
  bind 127.0.0.1:%d
  default_backend gatehouse
backend gatehouse
  balance roundrobin
  option httpchk
  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
%s`, port, servers.String())
	dir := filepath.Join(tmp, "haproxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return &proc{name: "haproxy", argv: []string{"haproxy", "-db", "-f", path}, env: env, dir: dir, log: filepath.Join(dir, "haproxy.log")}, nil
}
