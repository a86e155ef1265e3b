package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/core/normalize"
)

func (a *app) initCmd() *cobra.Command {
	var path, region string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Scaffold a commented desilo.yaml with one source per silo",
		Long: `init writes a commented desilo.yaml with one source per silo (HubSpot CRM,
Shopify shop, Zendesk service desk, IMAP mailbox), identity defaults for the
region given with --region, and Parquet output. Credentials are read from
environment variables; set them, then run 'desilo validate' and 'desilo check'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runInit(path, region, force)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "desilo.yaml", "the file to write")
	cmd.Flags().StringVar(&region, "region", "DE", "ISO 3166-1 alpha-2 country of phone numbers written without a country code")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}

func (a *app) runInit(path, region string, force bool) error {
	region = strings.ToUpper(strings.TrimSpace(region))
	if _, err := normalize.ByName("phone", normalize.Options{DefaultRegion: region}); err != nil || len(region) != 2 {
		return withCode(exitUsage, fmt.Errorf("--region %q: want an ISO 3166-1 alpha-2 country code such as DE, AT or GB", region))
	}
	var b bytes.Buffer
	if err := initTemplate.Execute(&b, map[string]string{"Region": region}); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return withCode(exitUsage, fmt.Errorf("%s exists; use --force to overwrite it", path))
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s\nnext: set HUBSPOT_TOKEN, SHOPIFY_SHOP, SHOPIFY_TOKEN, ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_TOKEN,\n      IMAP_HOST, IMAP_USER and IMAP_PASSWORD, then run: desilo validate -c %s && desilo check -c %s\n", path, path, path)
	return nil
}

var initTemplate = template.Must(template.New("desilo.yaml").Parse(`# desilo.yaml: where customer data comes from, how records become one
# customer, and where the customer model goes. Written by 'desilo init';
# every field is described in schema/desilo.schema.json and docs/connectors.md.
version: 1

# Staging, each source's saved state and the run lock live here. Keep it on
# persistent storage: a rerun after a failure resumes from it.
state_dir: .desilo

# One source per silo. Secrets come from the environment (${VAR}) or from
# files (${file:/run/secrets/name}) and never appear in logs.
sources:
  # CRM: HubSpot contacts, companies and deals (a private-app token).
  - name: crm
    connector: hubspot
    config:
      token: "${HUBSPOT_TOKEN}"

  # Shop: Shopify customers, orders and refunds (an Admin API access token).
  - name: shop
    connector: shopify
    config:
      shop: "${SHOPIFY_SHOP}"            # the name before .myshopify.com
      token: "${SHOPIFY_TOKEN}"

  # Service desk: Zendesk users, organizations, tickets (an API token).
  - name: service
    connector: zendesk
    config:
      subdomain: "${ZENDESK_SUBDOMAIN}"
      email: "${ZENDESK_EMAIL}"
      api_token: "${ZENDESK_TOKEN}"

  # Mailbox: message headers of the service mailbox (IMAP over TLS).
  - name: mail
    connector: imap
    config:
      host: "${IMAP_HOST}"
      username: "${IMAP_USER}"
      password: "${IMAP_PASSWORD}"
      mailboxes: [INBOX, Sent]

# How records become one customer: records sharing a normalized value of a
# key link, strongest key first. Role mailboxes (info@, noreply@ ...) and
# placeholders (n/a, 0000000 ...) link nothing; a value shared by more
# records than its limit links nothing and is reported.
identity:
  default_region: {{.Region}}              # phone numbers without a country code
  keys:
    - {name: email, normalize: email, max_records_per_value: 50}
    - {name: phone, normalize: phone, max_records_per_value: 10}
    # A composite key, for sources without email or phone:
    # - {name: name_dob_zip, composite: [last_name, birth_date, postal_code]}

# Which value wins when records disagree: the most recent non-empty one,
# unless a field names its trusted sources first.
profile:
  survivorship:
    default: most_recent
    fields:
      last_name: {rule: source_priority, source_priority: [crm, shop]}

# The customer model is published as a Parquet snapshot; 'current' switches
# only when every table is complete.
output:
  parquet:
    path: out
  # BigQuery as well (see the README):
  # bigquery: {project: my-project, dataset: customer360, location: EU}
`))
