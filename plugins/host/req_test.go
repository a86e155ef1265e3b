package host_test

import (
	"encoding/json"

	"github.com/desilo/desilo/plugins/connector"
)

func connectorReq(config json.RawMessage) connector.ReadRequest {
	return connector.ReadRequest{Config: config}
}
