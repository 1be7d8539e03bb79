// TEST ONLY: the TLS certificate of the fake's media server (WhatsApp's media host names, localhost,
// 127.0.0.1 and 127.0.0.2; valid 2020-2120) and its private key. Trusted only by test code
// (media-redirect.ts, the test preload); published on purpose, it protects nothing.
export const MEDIA_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgT8XuQGPv92e9y9fm
szxyCYWFovzr+VDVqr/LwwVSGc2hRANCAAR7A7iy+GY8vC+zTqB6TQZl03O+aAJG
bZaFndM/9+eg1ytjPMLdUcTce2Uyy6c3nDjy1Io++svhyU8g1BTf32nC
-----END PRIVATE KEY-----
`
export const MEDIA_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBuDCCAV2gAwIBAgIBATAKBggqhkjOPQQDAjAqMSgwJgYDVQQDDB9mYWtlIFdo
YXRzQXBwIG1lZGlhICh0ZXN0IG9ubHkpMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAw
MTAxMDAwMDAwWjAqMSgwJgYDVQQDDB9mYWtlIFdoYXRzQXBwIG1lZGlhICh0ZXN0
IG9ubHkpMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEewO4svhmPLwvs06gek0G
ZdNzvmgCRm2WhZ3TP/fnoNcrYzzC3VHE3HtlMsunN5w48tSKPvrL4clPINQU399p
wqNyMHAwPgYDVR0RBDcwNYIMd2hhdHNhcHAubmV0gg4qLndoYXRzYXBwLm5ldIIJ
bG9jYWxob3N0hwR/AAABhwR/AAACMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYE
FI785sjSUK1uxQVoNWxICpLlLUnKMAoGCCqGSM49BAMCA0kAMEYCIQDGMvq4ajG4
blg+MoKNsOtRAYyynuhOyI/hqRA6dK0qfgIhAOwsX8RX+XV36jmuBTBfmBPX2KRD
QlWO/XjKpCgRgW94
-----END CERTIFICATE-----
`
