package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// The htmx request and response headers the console reads and writes, all
// in one place (https://htmx.org/reference/#headers).
const (
	hxRequest = "HX-Request" // set on every request htmx makes
	hxBoosted = "HX-Boosted" // a boosted link or form: it wants a whole page
	// hxHistoryRestore: going back to a pushed URL that htmx no longer
	// caches (historyCacheSize 0); it wants a whole page.
	hxHistoryRestore = "HX-History-Restore-Request"
	hxRetarget       = "HX-Retarget" // swap the answer into another element
	hxReswap         = "HX-Reswap"   // swap it another way
	hxRedirect       = "HX-Redirect" // load another page instead
	hxPushURL        = "HX-Push-Url" // show this address, as a new history entry
)

// htmxConfig swaps 422 (a form with field errors), 409 (a form sent before,
// see submissions.go) and 502 (AWS said no, shown in the result panel) into
// the page; every other default of htmx 2 stays, but one: htmx settles a
// swapped element's style attribute by setting it from script, which the
// CSP (style-src 'self') refuses, so a data box the user resized made every
// swap of the form a CSP violation. The console's markup has no style
// attribute to settle.
const htmxConfig = `{"responseHandling":[` +
	`{"code":"204","swap":false},` +
	`{"code":"[23]..","swap":true},` +
	`{"code":"422","swap":true,"error":false},` +
	`{"code":"409","swap":true,"error":false},` +
	`{"code":"502","swap":true,"error":false},` +
	`{"code":"[45]..","swap":false,"error":true},` +
	`{"code":"...","swap":false}],` +
	`"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"attributesToSettle":["class","width","height"],` +
	`"selfRequestsOnly":true,"historyCacheSize":0}`

// fromHTMX reports a request made by htmx, whose answer is never shown as a
// page of its own: a navigation cannot set a header.
func fromHTMX(r *http.Request) bool { return r.Header.Get(hxRequest) == "true" }

// wantsFragment reports an htmx request that swaps part of the page; boosted
// requests, history restores and plain form posts get the whole page.
func wantsFragment(c echo.Context) bool {
	r := c.Request()
	return fromHTMX(r) && r.Header.Get(hxBoosted) != "true" && r.Header.Get(hxHistoryRestore) != "true"
}

// retarget makes htmx swap the answer into selector, the way swap says.
func retarget(c echo.Context, selector, swap string) {
	h := c.Response().Header()
	h.Set(hxRetarget, selector)
	h.Set(hxReswap, swap)
}

// varyOnHTMX tells caches that the same URL answers htmx and plain requests differently.
func varyOnHTMX(c echo.Context) {
	c.Response().Header().Add("Vary", hxRequest)
}
