package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/desilo/desilo/core/gen"
)

func (a *app) genCmd() *cobra.Command {
	o := gen.DefaultOptions()
	var out string
	cmd := &cobra.Command{
		Use:   "gen --out DIR",
		Short: "Generate sample silos of made-up people, with the ground truth",
		Long: `gen makes up people (German names, addresses and phone numbers) and writes
what four silos would hold about them, in each vendor's own export layout:

  hubspot/contacts.csv, companies.csv       HubSpot CRM export
  shopify/customers_export.csv, orders_export.csv   Shopify CSV exports
  zendesk/users.jsonl, tickets.jsonl        Zendesk API objects, one per line
  mail/service.mbox                         the service mailbox
  woocommerce/woocommerce.sql               WooCommerce tables, for PostgreSQL or MariaDB

with desilo.yaml, which reads all but the SQL dump offline, and truth.csv
(source,stream,record_key,person_id), which says whose each record is:

  desilo gen --people 2000 --out demo
  desilo sync -c demo/desilo.yaml
  desilo eval -c demo/desilo.yaml --truth demo/truth.csv

The records carry the noise of real silos, each kind at a rate from 0 to 1
set by a flag below. The same seed and flags give the same bytes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runGen(cmd.Context(), out, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "the folder to write to (created if missing; generated files are replaced)")
	f.IntVar(&o.People, "people", o.People, "how many people to make up")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "random seed")
	f.IntVar(&o.Years, "years", o.Years, "records are spread over this many years up to mid-2025")
	rates := []struct {
		p          *float64
		name, help string
	}{
		{&o.CRMRate, "crm-rate", "share of people with a CRM contact"},
		{&o.ShopRate, "shop-rate", "share of people with a shop account (others may order as guests)"},
		{&o.HelpdeskRate, "helpdesk-rate", "share of people with a helpdesk user"},
		{&o.MailRate, "mail-rate", "share of people who wrote to the service mailbox"},
		{&o.WooRate, "woo-rate", "share of people in the WooCommerce dump"},
		{&o.EmailNoise, "email-noise", "an address written with odd case or surrounding spaces"},
		{&o.PhoneIntl, "phone-intl", "a phone number written internationally (+49, 0049) rather than nationally"},
		{&o.Typo, "typo", "a name with a typo"},
		{&o.SwappedNames, "swapped-names", "first and last name swapped in a record"},
		{&o.Duplicate, "duplicate", "a second record of the person in the CRM, helpdesk or WooCommerce"},
		{&o.RoleMailbox, "role-mailbox", "of people with a company, those whose CRM contact has its info@ address"},
		{&o.SharedPhone, "shared-phone", "a person living with the previous one and sharing the family landline"},
		{&o.EmailChange, "email-change", "a person who changed address (old one in CRM and WooCommerce, new one elsewhere)"},
		{&o.Bridge, "bridge", "of those, the share with a helpdesk record holding the new address and the CRM's phone"},
	}
	for _, r := range rates {
		f.Float64Var(r.p, r.name, *r.p, r.help)
	}
	return cmd
}

func (a *app) runGen(ctx context.Context, out string, o gen.Options) error {
	if out == "" {
		return withCode(exitUsage, errors.New("gen: --out is required: the folder to write the data set to"))
	}
	if err := o.Validate(); err != nil {
		return withCode(exitUsage, fmt.Errorf("gen: --%w", err))
	}
	st, err := gen.Generate(ctx, out, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %d people to %s in %s (%.0f people/s)\n",
		st.People, out, st.Elapsed.Round(1e6), float64(st.People)/st.Elapsed.Seconds())
	for _, g := range slices.Sorted(maps.Keys(st.Records)) {
		fmt.Fprintf(a.stdout, "  %-26s %d records\n", g, st.Records[g])
	}
	fmt.Fprintf(a.stdout, "next: desilo sync -c %s/desilo.yaml && desilo eval -c %s/desilo.yaml --truth %s/truth.csv\n", out, out, out)
	return nil
}
