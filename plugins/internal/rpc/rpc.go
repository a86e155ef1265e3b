// Package rpc is the one place that knows both the connector contract and
// the wire protocol: the go-plugin handshake, and the gRPC shims that
// translate between connector.Connector and the generated proto code on
// either side of the process boundary.
package rpc

import (
	"context"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/mem"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/internal/proto"
)

// Handshake is checked by both sides before anything else. The magic
// cookie never changes; the protocol version moves with
// connector.ProtocolVersion.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  connector.ProtocolVersion,
	MagicCookieKey:   "DESILO_CONNECTOR_PLUGIN",
	MagicCookieValue: "6b1f1c4e-desilo-connector-7d0e2a93",
}

// PluginName is the name under which the connector is dispensed.
const PluginName = "connector"

// MaxMessageBytes bounds one gRPC message. A batch is flushed at
// BatchBytes, far below it; the headroom is for a single record that is
// larger than a batch on its own.
const MaxMessageBytes = 64 << 20

// Batch limits: a batch is sent when it holds BatchRecords records or
// BatchBytes bytes of record data, whichever comes first.
const (
	BatchRecords = 4096
	BatchBytes   = 1 << 20
)

// FlushAfter is how long a record may wait in a partial batch. A connector
// that emits slowly (a rate-limited API) would otherwise send nothing for
// minutes and be taken to hang; it is well below any sensible idle timeout.
const FlushAfter = 500 * time.Millisecond

// bufferPool gives gRPC buffers in power-of-two sizes up to 4 MiB. gRPC
// clears a pooled buffer before reuse; its default tiers jump from 32 KiB
// to 1 MiB, so a 200 KiB batch would clear five times its size.
var bufferPool = func() mem.BufferPool {
	p, err := mem.NewBinaryTieredBufferPool(8, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22)
	if err != nil {
		panic(err) // the exponents are constants
	}
	return p
}()

// WindowBytes is the HTTP/2 flow-control window the host grants a read
// stream. Setting it fixes the window (no BDP growth), which bounds what a
// fast connector can have in flight to one window plus one batch.
const WindowBytes = 4 << 20

// Plugin implements plugin.GRPCPlugin for the connector contract. Impl is
// set on the plugin side only.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl connector.Connector
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterConnectorServer(s, &server{impl: p.Impl})
	return nil
}

func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (interface{}, error) {
	return &Client{rpc: proto.NewConnectorClient(cc)}, nil
}

// ServerOptions are the gRPC server options of a plugin process.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		experimental.BufferPool(bufferPool),
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
	}
}

// DialOptions are the gRPC dial options of the host.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		experimental.WithBufferPool(bufferPool),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageBytes),
			grpc.MaxCallSendMsgSize(MaxMessageBytes),
		),
		grpc.WithInitialWindowSize(WindowBytes),
		grpc.WithInitialConnWindowSize(WindowBytes),
	}
}
