package treezor

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kycflow/kycflow/activities/providerhttp"
)

// Payin is a payin into a wallet: only what identifies it and its state, never amounts, names or IBANs.
type Payin struct {
	ID              string
	WalletID        string
	UserID          string
	Status          string
	PaymentMethodID string
	// Created is when Treezor recorded the payin (createdDate); zero when it did not say.
	Created time.Time
}

// ListValidatedPayins lists the validated payins into a wallet created since since (GET
// /v1/payins?walletId=...&payinStatus=VALIDATED&createdDateFrom=..., Treezor's getPayins); a payin dated before
// since is dropped here too. The SEPA validation transfer (seeds 001 and 002) may reach the wallet before the
// verification's workflow exists, when its payin webhooks have no run to reach, or its webhook may be lost: this
// listing is what Treezor holds whatever webhooks came.
func (c *Client) ListValidatedPayins(ctx context.Context, walletID string, since time.Time) ([]Payin, error) {
	const op = "treezor: list payins"
	if walletID == "" || len(walletID) > 19 || strings.Trim(walletID, "0123456789") != "" {
		// The value is not quoted: a wrong value could be personal data.
		return nil, providerhttp.InvalidArgument(op, "the Treezor wallet ID must be digits only")
	}
	query := url.Values{"walletId": {walletID}, "payinStatus": {"VALIDATED"}}
	if !since.IsZero() {
		query.Set("createdDateFrom", since.UTC().Format(documentDateLayout))
	}
	// PayinObject: {"payins":[{...}]}; amounts, names and IBANs are skipped by the decoder.
	var answer struct {
		Payins []struct {
			PayinID         flexible `json:"payinId"`
			WalletID        flexible `json:"walletId"`
			UserID          flexible `json:"userId"`
			PayinStatus     string   `json:"payinStatus"`
			PaymentMethodID flexible `json:"paymentMethodId"`
			CreatedDate     string   `json:"createdDate"`
		} `json:"payins"`
	}
	if err := c.readJSON(ctx, providerhttp.Request{Op: op, Method: http.MethodGet, Path: "/v1/payins", Query: query}, &answer, "PayinObject"); err != nil {
		return nil, err
	}
	payins := make([]Payin, 0, len(answer.Payins))
	for _, p := range answer.Payins {
		// A payin into another wallet must never count as this one's.
		if p.PayinID == "" || !sameUserID(string(p.WalletID), walletID) {
			continue
		}
		created, _ := time.Parse(documentDateLayout, p.CreatedDate) // zero when absent or in another form
		if !created.IsZero() && created.Before(since) {
			continue
		}
		payins = append(payins, Payin{ID: string(p.PayinID), WalletID: walletID, UserID: string(p.UserID),
			Status: p.PayinStatus, PaymentMethodID: string(p.PaymentMethodID), Created: created})
	}
	return payins, nil
}
