package treezor

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kycflow/kycflow/activities/providerhttp"
)

// Document is a document Treezor holds for a user: only its identifiers, never its name or the user's.
type Document struct {
	ID     string
	TypeID int
}

// documentDateLayout is how getDocuments takes createdDateFrom: "Format: `YYYY-MM-DD HH:mm:ss`".
const documentDateLayout = "2006-01-02 15:04:05"

// ListDocuments lists the user's documents created since since (GET /v1/documents?userId=...&createdDateFrom=...,
// Treezor's getDocuments). Treezor says to request a KYC review "only once you've received all the document
// creation webhooks" (seed 001), without saying how many there are: this listing says which to wait for.
func (c *Client) ListDocuments(ctx context.Context, userID string, since time.Time) ([]Document, error) {
	const op = "treezor: list documents"
	if _, err := userPath(op, userID, ""); err != nil {
		return nil, err
	}
	query := url.Values{"userId": {userID}}
	if !since.IsZero() {
		query.Set("createdDateFrom", since.UTC().Format(documentDateLayout))
	}
	// DocumentObject: {"documents":[{...}]}; names and the user's names are skipped by the decoder.
	var answer struct {
		Documents []struct {
			DocumentID     flexible `json:"documentId"`
			DocumentTypeID flexible `json:"documentTypeId"`
			UserID         flexible `json:"userId"`
		} `json:"documents"`
	}
	if err := c.readJSON(ctx, providerhttp.Request{Op: op, Method: http.MethodGet, Path: "/v1/documents", Query: query}, &answer, "DocumentObject"); err != nil {
		return nil, err
	}
	docs := make([]Document, 0, len(answer.Documents))
	for _, d := range answer.Documents {
		// A document of another user must never count as this one's.
		if d.DocumentID == "" || (d.UserID != "" && !sameUserID(string(d.UserID), userID)) {
			continue
		}
		typeID, _ := strconv.Atoi(string(d.DocumentTypeID))
		docs = append(docs, Document{ID: string(d.DocumentID), TypeID: typeID})
	}
	return docs, nil
}
