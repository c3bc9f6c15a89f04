// Package archive ships flushed batches to the long-term archive over HTTP.
package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"ingester/internal/store"
)

// Client posts batches to {baseURL}/v1/batches.
type Client struct {
	url  string
	http *http.Client
}

// New returns a client whose every call is bounded by timeout (connect,
// headers and body).
func New(baseURL string, timeout time.Duration) *Client {
	return &Client{url: baseURL + "/v1/batches", http: &http.Client{Timeout: timeout}}
}

// Send posts lines as NDJSON, one object per line; any answer but 2xx is
// an error.
func (c *Client) Send(ctx context.Context, lines []store.Line) error {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("archive answered %d", resp.StatusCode)
	}
	return nil
}
