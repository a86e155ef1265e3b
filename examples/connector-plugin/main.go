// Command desilo-connector-newsletter is a complete third-party desilo
// connector: it reads a newsletter tool's subscriber export (JSON Lines)
// and imports nothing from desilo but the contract and the SDK. Build it,
// put it on the plugin path, and name it in desilo.yaml:
//
//	go build -o ~/.desilo/plugins/desilo-connector-newsletter ./examples/connector-plugin
//
//	sources:
//	  - name: newsletter
//	    connector: newsletter
//	    config: {path: exports/subscribers.jsonl}
package main

import "github.com/desilo/desilo/plugins/sdk"

func main() { sdk.Serve(&Newsletter{}) }
