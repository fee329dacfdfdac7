package video

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// webhookServer serves the handler on a loopback port.
func webhookServer(t *testing.T, env *testEnv) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	env.source.Webhook.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type post struct {
	path, contentType, auth string
	body                    io.Reader
}

func (p post) do(t *testing.T, srv *httptest.Server) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+p.path, p.body)
	if err != nil {
		t.Fatal(err)
	}
	if p.contentType != "" {
		req.Header.Set("Content-Type", p.contentType)
	}
	if p.auth != "" {
		req.Header.Set("Authorization", p.auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

const bearer = "Bearer secret-token"

func TestWebhookHikvisionXML(t *testing.T) {
	env := newTestEnv(t, testConfig())
	srv := webhookServer(t, env)
	code, body := post{HikvisionPath, "application/xml", bearer, bytes.NewReader(readSample(t, "hikvision-alert.xml"))}.do(t, srv)
	if code != http.StatusOK {
		t.Fatalf("status = %d (%s), want 200", code, body)
	}
	if got := env.eventsTotal("dispatch_room", EventPersonIn); got != 1 {
		t.Errorf("person_in = %v, want 1", got)
	}
	if got := testutil.ToFloat64(env.source.Engine.received.WithLabelValues(testMine, "hikvision_xml")); got != 1 {
		t.Errorf("received{format=hikvision_xml} = %v, want 1", got)
	}
}

func TestWebhookHikvisionJSONBasicAuth(t *testing.T) {
	env := newTestEnv(t, testConfig())
	srv := webhookServer(t, env)
	req := post{HikvisionPath, "application/json", "", bytes.NewReader(readSample(t, "hikvision-alert.json"))}
	httpReq, _ := http.NewRequest(http.MethodPost, srv.URL+req.path, req.body)
	httpReq.Header.Set("Content-Type", req.contentType)
	httpReq.SetBasicAuth("box", "pa55")
	resp, err := srv.Client().Do(httpReq)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := env.eventsTotal("aux_shaft", EventNoHelmet); got != 1 {
		t.Errorf("no_helmet via channel name alias = %v, want 1", got)
	}
}

func TestWebhookMultipartWithImage(t *testing.T) {
	env := newTestEnv(t, testConfig())
	srv := webhookServer(t, env)

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	xmlPart, _ := mw.CreatePart(textproto.MIMEHeader{
		"Content-Disposition": {`form-data; name="fielddetection"`},
		"Content-Type":        {"application/xml; charset=UTF-8"},
	})
	xmlPart.Write(readSample(t, "hikvision-alert.xml"))
	img, _ := mw.CreatePart(textproto.MIMEHeader{
		"Content-Disposition": {`form-data; name="fielddetectionImage"; filename="snapshot.jpg"`},
		"Content-Type":        {"image/jpeg"},
	})
	img.Write(bytes.Repeat([]byte{0xff, 0xd8, 0x00}, 20000))
	mw.Close()

	code, body := post{HikvisionPath, mw.FormDataContentType(), bearer, &buf}.do(t, srv)
	if code != http.StatusOK {
		t.Fatalf("status = %d (%s), want 200", code, body)
	}
	if got := env.eventsTotal("dispatch_room", EventPersonIn); got != 1 {
		t.Errorf("person_in from the multipart XML part = %v, want 1", got)
	}

	// A multipart body with only an image has no event.
	var imgOnly bytes.Buffer
	mw = multipart.NewWriter(&imgOnly)
	img, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/jpeg"}})
	img.Write([]byte{0xff, 0xd8})
	mw.Close()
	code, body = post{HikvisionPath, mw.FormDataContentType(), bearer, &imgOnly}.do(t, srv)
	if code != http.StatusBadRequest || !strings.Contains(body, "no XML or JSON part") {
		t.Errorf("image-only multipart: status %d body %q, want 400 naming the missing part", code, body)
	}
}

func TestWebhookOwnJSON(t *testing.T) {
	env := newTestEnv(t, testConfig())
	srv := webhookServer(t, env)
	events := `[{"camera":"dispatch_room","event":"dispatch_asleep","state":"start","id":"a1"},
	            {"camera":"coal_yard_gate","type":"object","label":"truck","zones":["exit_lane"]}]`
	code, body := post{EventsPath, "application/json", bearer, strings.NewReader(events)}.do(t, srv)
	if code != http.StatusOK || !strings.Contains(body, `"accepted":2`) {
		t.Fatalf("status = %d (%s), want 200 with 2 accepted", code, body)
	}
	if got := env.active("dispatch_room", EventDispatchAsleep); got != 1 {
		t.Errorf("dispatch_asleep active = %v, want 1", got)
	}
	if got := env.eventsTotal("coal_yard_gate", EventTruckOut); got != 1 {
		t.Errorf("truck_out via mapping = %v, want 1", got)
	}

	end := `{"camera":"dispatch_room","event":"dispatch_asleep","state":"end","id":"a1"}`
	if code, body := (post{EventsPath, "application/json", bearer, strings.NewReader(end)}).do(t, srv); code != 200 {
		t.Fatalf("end: status = %d (%s)", code, body)
	}
	if got := env.active("dispatch_room", EventDispatchAsleep); got != 0 {
		t.Errorf("dispatch_asleep active after end = %v, want 0", got)
	}
}

func TestWebhookRejects(t *testing.T) {
	env := newTestEnv(t, testConfig())
	srv := webhookServer(t, env)
	xmlSample := string(readSample(t, "hikvision-alert.xml"))
	oversized := strings.Repeat(" ", int(env.cfg.Webhook.MaxBodyBytes)) + xmlSample

	cases := []struct {
		name   string
		req    post
		status int
		reason string // mine_source_errors_total reason, "" when before authentication
		want   string
	}{
		{"wrong token", post{HikvisionPath, "application/xml", "Bearer nope", strings.NewReader(xmlSample)},
			401, "", "bearer token matches no webhook site"},
		{"no auth", post{HikvisionPath, "application/xml", "", strings.NewReader(xmlSample)},
			401, "", "missing Authorization"},
		{"broken XML", post{HikvisionPath, "application/xml", bearer, strings.NewReader(xmlSample[:200])},
			400, "invalid_xml", "invalid EventNotificationAlert XML"},
		{"XML without eventType", post{HikvisionPath, "application/xml", bearer,
			strings.NewReader("<EventNotificationAlert><channelName>x</channelName></EventNotificationAlert>")},
			400, "invalid_xml", "no eventType"},
		{"broken JSON", post{HikvisionPath, "application/json", bearer, strings.NewReader(`{"eventType":`)},
			400, "invalid_json", "invalid EventNotificationAlert JSON"},
		{"oversized body", post{HikvisionPath, "application/xml", bearer, strings.NewReader(oversized)},
			413, "body_too_large", "exceeds the limit"},
		{"oversized chunked body", post{HikvisionPath, "application/xml", bearer,
			io.MultiReader(strings.NewReader(oversized))}, 413, "body_too_large", "exceeds the limit"},
		{"unknown camera", post{HikvisionPath, "application/xml", bearer,
			strings.NewReader(strings.Replace(xmlSample, "dispatch_room", "cellar", 1))},
			422, "unknown_camera", `camera "cellar"`},
		{"unsupported type", post{HikvisionPath, "image/png", bearer, strings.NewReader("PNG")},
			415, "unsupported_media_type", "not XML, JSON or multipart"},
		{"own JSON unknown field", post{EventsPath, "application/json", bearer,
			strings.NewReader(`{"camera":"dispatch_room","evnt":"person_in"}`)}, 400, "invalid_json", "unknown field"},
		{"own JSON not vocabulary", post{EventsPath, "application/json", bearer,
			strings.NewReader(`{"camera":"dispatch_room","event":"smoking"}`)}, 400, "invalid_json", "not in the vocabulary"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := tc.req.do(t, srv)
			if code != tc.status {
				t.Errorf("status = %d, want %d (body %s)", code, tc.status, body)
			}
			var msg map[string]string
			if err := json.Unmarshal([]byte(body), &msg); err != nil {
				t.Fatalf("error body %q is not JSON: %v", body, err)
			}
			if !strings.Contains(msg["error"], tc.want) {
				t.Errorf("error %q does not contain %q", msg["error"], tc.want)
			}
			if tc.reason == "" {
				return
			}
			c, err := env.reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range c {
				if f.GetName() != "mine_source_errors_total" {
					continue
				}
				for _, m := range f.GetMetric() {
					for _, l := range m.GetLabel() {
						if l.GetName() == "reason" && l.GetValue() == tc.reason && m.GetCounter().GetValue() > 0 {
							found = true
						}
					}
				}
			}
			if !found {
				t.Errorf("mine_source_errors_total{reason=%q} was not counted", tc.reason)
			}
		})
	}
}

func TestWebhookMethodNotAllowed(t *testing.T) {
	env := newTestEnv(t, testConfig())
	srv := webhookServer(t, env)
	resp, err := http.Get(srv.URL + HikvisionPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: status %d Allow %q, want 405 and POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}
