package openaiwire

// ErrorResponse is the OpenAI error body: {"error": {...}}.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an error. Type is e.g. "invalid_request_error",
// "authentication_error", "rate_limit_error" or "server_error".
type ErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// NewErrorResponse builds an error body.
func NewErrorResponse(message, typ string) ErrorResponse {
	return ErrorResponse{Error: ErrorDetail{Message: message, Type: typ}}
}
