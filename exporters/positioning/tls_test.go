package positioning

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/minewatch/minewatch/internal/testenv"
)

// pki is a CA with a broker certificate for 127.0.0.1 and a client
// certificate, written as PEM files into dir.
type pki struct {
	dir                          string
	caFile, serverCert, serverKy string
	clientCert, clientKey        string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	// mosquitto drops root privileges to its own user before it reads
	// the certificates, so the folder must be readable by others.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	caKey := newKey(t)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "minewatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &pki{dir: dir}
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage, ips []net.IP) (string, string) {
		key := newKey(t)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return writePEM(t, dir, name+".pem", "CERTIFICATE", der), writePEM(t, dir, name+".key", "EC PRIVATE KEY", keyDER)
	}
	p.serverCert, p.serverKy = issue("broker", 2, x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	p.clientCert, p.clientKey = issue("exporter", 3, x509.ExtKeyUsageClientAuth, nil)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsBroker starts mosquitto with a plain listener (returned Addr) and a
// TLS listener on the returned port.
func tlsBroker(t *testing.T, p *pki, requireCert bool, extra string) (*testenv.Process, string) {
	t.Helper()
	port := testenv.FreePort(t)
	conf := fmt.Sprintf("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate %v\n%s",
		port, p.caFile, p.serverCert, p.serverKy, requireCert, extra)
	b := testenv.Mosquitto(t, conf)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, 30*time.Second, "TLS listener", func() bool { return testenv.TCPReady(addr)() == nil })
	return b, addr
}

func TestMQTTTLSClientCertificate(t *testing.T) {
	p := newPKI(t)
	b, tlsAddr := tlsBroker(t, p, true, "")
	cfg := baseConfig(t, "ssl://"+tlsAddr)
	cfg.TLS = &TLSConfig{CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}
	h := startSource(t, cfg, nil, nil)

	pub := publisher(t, "tcp://"+b.Addr)
	publish(t, pub, "mine/320382000101/uwb/tag/T1", 1, `{"type":"person","x":1,"y":2}`)
	waitFor(t, 30*time.Second, "message over TLS", func() bool { return h.src.Stats().Processed == 1 })
}

func TestMQTTTLSCAOnlyWithPassword(t *testing.T) {
	p := newPKI(t)
	pwFile := filepath.Join(p.dir, "passwords")
	out, err := exec.Command(testenv.Binary(t, "mosquitto_passwd"), "-b", "-c", pwFile, "exporter", "s3cret").CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_passwd: %v: %s", err, out)
	}
	if err := os.Chmod(pwFile, 0o644); err != nil {
		t.Fatal(err)
	}
	// Without per_listener_settings the password file guards both
	// listeners, so the plain publisher logs in too.
	extra := "allow_anonymous false\npassword_file " + pwFile + "\n"
	b, tlsAddr := tlsBroker(t, p, false, extra)
	cfg := baseConfig(t, "ssl://"+tlsAddr)
	cfg.TLS = &TLSConfig{CAFile: p.caFile}
	cfg.Username, cfg.Password = "exporter", "s3cret"
	h := startSource(t, cfg, nil, nil)

	pub := publisher(t, "tcp://"+b.Addr, func(o *mqtt.ClientOptions) { o.SetUsername("exporter").SetPassword("s3cret") })
	publish(t, pub, "mine/320382000101/uwb/tag/T1", 1, `{"type":"person","x":1,"y":2}`)
	waitFor(t, 30*time.Second, "message over TLS", func() bool { return h.src.Stats().Processed == 1 })

	// A wrong password must be refused by the broker.
	bad := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("ssl://" + tlsAddr).SetClientID("bad").
		SetUsername("exporter").SetPassword("wrong").
		SetTLSConfig(&tls.Config{RootCAs: mustPool(t, p.caFile)}))
	tok := bad.Connect()
	if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
		t.Error("the broker accepted a wrong password")
		bad.Disconnect(0)
	}
}

func mustPool(t *testing.T, caFile string) *x509.CertPool {
	pemData, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	return pool
}
