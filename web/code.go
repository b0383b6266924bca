package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kinesis-console/kinesis-console/internal/stream"
	"github.com/kinesis-console/kinesis-console/views"
)

// code handles POST /records/code: the filled form as an AWS CLI command, a
// boto3 call and a Go SDK call. Nothing is sent to AWS.
func (h *handlers) code(c echo.Context) error {
	in, _ := bindInput(c)
	rec, errs := in.Validate(stream.MaxRecordBytesLimit)
	if len(errs) > 0 {
		return render(c, http.StatusOK, views.CodeView(views.CodeSnippets{Err: "Fix the form first: " + errs[0].Message}))
	}
	t := h.targetOf(c.Request().Context())
	s := stream.SnippetsAt(rec, in.Format == stream.FormatBase64, stream.Where{Region: t.Region, Endpoint: t.Endpoint})
	return render(c, http.StatusOK, views.CodeView(views.CodeSnippets{AWSCLI: s.AWSCLI, Boto3: s.Boto3, Go: s.Go}))
}
