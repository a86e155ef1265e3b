package imap

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Config is the connector's config; config.schema.json documents each field.
type Config struct {
	Host          string   `json:"host"`
	Port          int      `json:"port"`
	TLS           string   `json:"tls"`
	Insecure      bool     `json:"insecure"`
	CAFile        string   `json:"ca_file"`
	Username      string   `json:"username"`
	Password      string   `json:"password"`
	Mailboxes     []string `json:"mailboxes"`
	SentMailboxes []string `json:"sent_mailboxes"`
	OwnAddresses  []string `json:"own_addresses"`
	Bodies        bool     `json:"bodies"`
	BodyMaxBytes  int      `json:"body_max_bytes"`
	BatchSize     int      `json:"batch_size"`
	Mbox          []string `json:"mbox"`
}

const (
	tlsImplicit = "implicit"
	tlsStartTLS = "starttls"
	tlsNone     = "none"

	defaultBodyMaxBytes = 64 << 10
	defaultBatchSize    = 500
)

// parseConfig decodes strictly, fills defaults and checks what the JSON
// Schema cannot say (or what a caller skipping the host's validation got
// wrong). Errors never carry the password.
func parseConfig(raw json.RawMessage) (*Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("imap config: %w", err)
	}
	if c.TLS == "" {
		c.TLS = tlsImplicit
	}
	if c.Port == 0 {
		c.Port = 143
		if c.TLS == tlsImplicit {
			c.Port = 993
		}
	}
	if len(c.Mailboxes) == 0 {
		c.Mailboxes = []string{"INBOX"}
	}
	if c.BodyMaxBytes == 0 {
		c.BodyMaxBytes = defaultBodyMaxBytes
	}
	if c.BatchSize == 0 {
		c.BatchSize = defaultBatchSize
	}
	var errs []error
	switch {
	case c.Host == "" && len(c.Mbox) == 0:
		errs = append(errs, errors.New("set host (an IMAP server) or mbox (files), or both"))
	case c.Host != "" && (c.Username == "" || c.Password == ""):
		errs = append(errs, errors.New("host needs username and password"))
	}
	switch c.TLS {
	case tlsImplicit, tlsStartTLS:
	case tlsNone:
		if !c.Insecure {
			errs = append(errs, errors.New("tls: none sends the password in clear text; it needs insecure: true"))
		}
	default:
		errs = append(errs, fmt.Errorf("tls: %q is not one of implicit, starttls, none", c.TLS))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port: %d is out of range 1-65535", c.Port))
	}
	if c.BodyMaxBytes < 1 || c.BatchSize < 1 {
		errs = append(errs, errors.New("body_max_bytes and batch_size must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("imap config: %w", err)
	}
	return &c, nil
}

func (c *Config) addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// tlsConfig verifies the server against the system roots plus ca_file.
func (c *Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if c.CAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("imap config: ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("imap config: ca_file %s: no PEM certificate in it", c.CAFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

// rawLimit is how much of a message's text is fetched to find its
// text/plain part: the kept body plus room for transfer encoding (base64
// grows by a third) and for parts before it.
func (c *Config) rawLimit() int64 { return max(1<<20, 4*int64(c.BodyMaxBytes)) }

// isSent reports whether mailbox holds outgoing mail, given the sent
// mailboxes found on the server (nil for mbox files).
func (c *Config) isSent(mailbox string, serverSent map[string]bool) bool {
	if c.SentMailboxes != nil {
		for _, m := range c.SentMailboxes {
			if strings.EqualFold(m, mailbox) {
				return true
			}
		}
		return false
	}
	if len(serverSent) > 0 {
		return serverSent[mailbox]
	}
	return isNamedSent(mailbox)
}

// isNamedSent matches "Sent" and "INBOX.Sent" / "INBOX/Sent".
func isNamedSent(mailbox string) bool {
	last := mailbox[strings.LastIndexAny(mailbox, "./")+1:]
	return strings.EqualFold(last, "Sent")
}

// ownAddress reports whether addr is one of own_addresses or in one of
// its @domain entries; case does not matter.
func (c *Config) ownAddress(addr string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return false
	}
	for _, o := range c.OwnAddresses {
		o = strings.ToLower(strings.TrimSpace(o))
		if o == addr || (strings.HasPrefix(o, "@") && strings.HasSuffix(addr, o)) {
			return true
		}
	}
	return false
}
