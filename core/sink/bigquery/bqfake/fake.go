// Package bqfake is a fake of the BigQuery REST API v2 for tests, written
// from the API's reference.
package bqfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pgo "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	bqv2 "google.golang.org/api/bigquery/v2"
)

// Server is a fake of the BigQuery REST API v2, after its reference:
// datasets.get/insert, tables.get/insert/patch/delete, jobs.insert (plain
// and with a multipart or resumable media upload), jobs.get. Jobs run when
// inserted, in the destination dataset's location unless the insert names
// one, and are DONE at once. jobs.get finds a job only in its location: a
// job in a single region needs the location parameter, as BigQuery says. Load jobs read the uploaded Parquet with
// parquet-go and check it against the destination table's schema the way
// BigQuery does (columns by name, types, modes). WRITE_TRUNCATE replaces
// the destination's data and schema, as BigQuery documents: a load's with
// the load's schema (the file's when the load names none, so without
// descriptions), a copy's with the source's. Every call is recorded;
// faults are injected per operation.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	calls    []string
	datasets map[string]*bqv2.Dataset
	tables   map[string]*Table // "dataset.table"
	jobs     map[string]*bqv2.Job
	uploads  map[string]*upload
	loads    []Load
	faults   []*Fault
	etag     int
	lost     *Fault // an After fault of the call being served
}

type Table struct {
	Meta *bqv2.Table
	Rows []map[string]any
}

// Load is one file a load job received.
type Load struct {
	Table string // destination table id
	Job   *bqv2.Job
	Rows  []map[string]any
	Cols  []*bqv2.TableFieldSchema // the file's columns, as BigQuery reads them
	Type  string                   // upload type: multipart or resumable
}

type upload struct {
	job  *bqv2.Job
	data bytes.Buffer
}

// Fault makes the next n calls of op fail: with an HTTP error when code is
// set, else (jobs) with a DONE job whose errorResult has reason.
type Fault struct {
	Op      string // "datasets.get", "tables.insert", "jobs.insert:load", "jobs.insert:copy", ...
	Table   string // only calls on a table id with this prefix; "" any
	N       int
	Code    int
	Reason  string
	Message string
	// After: the call is carried out (a job created and run, a table
	// created or patched), then fails anyway with Code: an answer lost on
	// the way back.
	After bool
}

// New starts a fake; it stops when the test ends. Point the client at URL.
func New(t testing.TB) *Server {
	f := &Server{datasets: map[string]*bqv2.Dataset{}, tables: map[string]*Table{},
		jobs: map[string]*bqv2.Job{}, uploads: map[string]*upload{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// Loads returns every file a load job received, in order.
func (f *Server) Loads() []Load {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.loads)
}

// TableIDs lists the tables of a dataset.
func (f *Server) TableIDs(dataset string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, t := range f.tables {
		if t.Meta.TableReference.DatasetId == dataset {
			ids = append(ids, t.Meta.TableReference.TableId)
		}
	}
	slices.Sort(ids)
	return ids
}

// Dataset returns a dataset, nil when missing.
func (f *Server) Dataset(id string) *bqv2.Dataset {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.datasets[id]
}

// URL is the fake's base URL, for output.bigquery.endpoint.
func (f *Server) URL() string { return f.srv.URL }

func (f *Server) Fail(ft Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &ft)
}

// takeFault returns the first pending fault for op (and table).
func (f *Server) takeFault(op, table string) *Fault {
	for _, ft := range f.faults {
		if ft.N > 0 && ft.Op == op && (ft.Table == "" || strings.HasPrefix(table, ft.Table)) {
			ft.N--
			return ft
		}
	}
	return nil
}

func (f *Server) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

var (
	reDataset  = regexp.MustCompile(`^/bigquery/v2/projects/([^/]+)/datasets/([^/]+)$`)
	reDatasets = regexp.MustCompile(`^/bigquery/v2/projects/([^/]+)/datasets$`)
	reTable    = regexp.MustCompile(`^/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)$`)
	reTables   = regexp.MustCompile(`^/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables$`)
	reJobs     = regexp.MustCompile(`^/bigquery/v2/projects/([^/]+)/jobs$`)
	reJob      = regexp.MustCompile(`^/bigquery/v2/projects/([^/]+)/jobs/([^/]+)$`)
	reUpload   = regexp.MustCompile(`^/upload/bigquery/v2/projects/([^/]+)/jobs$`)
)

type apiErr struct {
	code    int
	reason  string
	message string
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost = nil
	res, op, aerr := f.route(r)
	f.calls = append(f.calls, op)
	if ft := f.lost; ft != nil {
		res, aerr = nil, &apiErr{ft.Code, ft.Reason, ft.Message}
	}
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	switch v := res.(type) {
	case nil:
		w.WriteHeader(http.StatusNoContent)
		return
	case sessionURI:
		w.Header().Set("Location", string(v))
		w.WriteHeader(http.StatusOK)
		return
	case resumeIncomplete:
		w.Header().Set("X-Http-Status-Code-Override", "308")
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", int(v)-1))
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

func writeErr(w http.ResponseWriter, e *apiErr) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": e.code, "message": e.message,
		"errors": []map[string]any{{"reason": e.reason, "message": e.message, "domain": "global"}},
	}})
}

func notFound(what string) *apiErr {
	return &apiErr{http.StatusNotFound, "notFound", "Not found: " + what}
}

// route serves one request; op names it in the call log.
func (f *Server) route(r *http.Request) (res any, op string, err *apiErr) {
	p := r.URL.Path
	var m []string
	switch {
	case r.Method == "GET" && match(reDataset, p, &m):
		op = "datasets.get " + m[2]
		if err := f.check("datasets.get", ""); err != nil {
			return nil, op, err
		}
		ds, ok := f.datasets[m[2]]
		if !ok {
			return nil, op, notFound("Dataset " + m[1] + ":" + m[2])
		}
		return ds, op, nil
	case r.Method == "POST" && match(reDatasets, p, &m):
		var ds bqv2.Dataset
		if err := json.NewDecoder(r.Body).Decode(&ds); err != nil {
			return nil, "datasets.insert", &apiErr{400, "invalid", err.Error()}
		}
		op = "datasets.insert " + ds.DatasetReference.DatasetId
		if err := f.check("datasets.insert", ""); err != nil {
			return nil, op, err
		}
		if _, ok := f.datasets[ds.DatasetReference.DatasetId]; ok {
			return nil, op, &apiErr{409, "duplicate", "Already Exists: Dataset " + ds.DatasetReference.DatasetId}
		}
		if ds.Location == "" {
			ds.Location = "US"
		}
		f.datasets[ds.DatasetReference.DatasetId] = &ds
		return &ds, op, nil
	case match(reTable, p, &m):
		key := m[2] + "." + m[3]
		op = "tables." + map[string]string{"GET": "get", "PATCH": "patch", "DELETE": "delete", "PUT": "update"}[r.Method] + " " + m[3]
		if err := f.check(strings.Fields(op)[0], m[3]); err != nil {
			return nil, op, err
		}
		t, ok := f.tables[key]
		if !ok {
			return nil, op, notFound("Table " + m[1] + ":" + key)
		}
		switch r.Method {
		case "GET":
			return t.Meta, op, nil
		case "DELETE":
			delete(f.tables, key)
			return nil, op, nil
		case "PATCH":
			if et := r.Header.Get("If-Match"); et != "" && et != t.Meta.Etag {
				return nil, op, &apiErr{412, "conditionNotMet", "Precondition check failed."}
			}
			var upd bqv2.Table
			if err := json.NewDecoder(r.Body).Decode(&upd); err != nil {
				return nil, op, &apiErr{400, "invalid", err.Error()}
			}
			if upd.Schema != nil {
				if msg := additive(t.Meta.Schema.Fields, upd.Schema.Fields); msg != "" {
					return nil, op, &apiErr{400, "invalid", "Provided Schema does not match Table " + key + ". " + msg}
				}
				t.Meta.Schema = upd.Schema
			}
			if upd.Clustering != nil {
				t.Meta.Clustering = upd.Clustering
			}
			f.etag++
			t.Meta.Etag = "etag-" + strconv.Itoa(f.etag)
			return t.Meta, op, nil
		}
	case r.Method == "POST" && match(reTables, p, &m):
		var t bqv2.Table
		if err := json.NewDecoder(r.Body).Decode(&t); err != nil {
			return nil, "tables.insert", &apiErr{400, "invalid", err.Error()}
		}
		op = "tables.insert " + t.TableReference.TableId
		if err := f.check("tables.insert", t.TableReference.TableId); err != nil {
			return nil, op, err
		}
		if _, ok := f.datasets[m[2]]; !ok {
			return nil, op, notFound("Dataset " + m[1] + ":" + m[2])
		}
		key := m[2] + "." + t.TableReference.TableId
		if _, ok := f.tables[key]; ok {
			return nil, op, &apiErr{409, "duplicate", "Already Exists: Table " + m[1] + ":" + key}
		}
		f.putTableLocked(m[2], &t)
		return f.tables[key].Meta, op, nil
	case r.Method == "GET" && match(reJob, p, &m):
		op = "jobs.get " + m[2]
		if err := f.check("jobs.get", ""); err != nil {
			return nil, op, err
		}
		j, ok := f.jobs[m[2]]
		loc := r.URL.Query().Get("location")
		if !ok || !strings.EqualFold(loc, j.JobReference.Location) && (loc != "" || !multiRegion(j.JobReference.Location)) {
			return nil, op, notFound("Job " + m[1] + ":" + m[2])
		}
		return j, op, nil
	case r.Method == "POST" && match(reJobs, p, &m):
		var j bqv2.Job
		if err := json.NewDecoder(r.Body).Decode(&j); err != nil {
			return nil, "jobs.insert", &apiErr{400, "invalid", err.Error()}
		}
		return f.insertJob(m[1], &j, nil, "")
	case r.Method == "POST" && match(reUpload, p, &m):
		return f.upload(r, m[1])
	}
	return nil, r.Method + " " + p, &apiErr{404, "notFound", "no such method: " + r.Method + " " + p}
}

// check takes the pending fault of op on table: its error to answer at
// once, or, for an After fault, nil: the call goes on and serve replaces
// its answer with the fault's error.
func (f *Server) check(op, table string) *apiErr {
	ft := f.takeFault(op, table)
	switch {
	case ft == nil || ft.Code == 0:
		return nil
	case ft.After:
		f.lost = ft
		return nil
	}
	return &apiErr{ft.Code, ft.Reason, ft.Message}
}

// multiRegion reports whether loc is one of the multi-regions, US and EU,
// whose jobs jobs.get finds without a location.
func multiRegion(loc string) bool {
	return strings.EqualFold(loc, "US") || strings.EqualFold(loc, "EU")
}

func match(re *regexp.Regexp, s string, m *[]string) bool {
	*m = re.FindStringSubmatch(s)
	return *m != nil
}

func (f *Server) putTableLocked(dataset string, t *bqv2.Table) {
	f.etag++
	t.Etag = "etag-" + strconv.Itoa(f.etag)
	t.Id = "p:" + dataset + "." + t.TableReference.TableId
	t.Type = "TABLE"
	if t.Schema == nil {
		t.Schema = &bqv2.TableSchema{}
	}
	f.tables[dataset+"."+t.TableReference.TableId] = &Table{Meta: t}
}

// PutDataset adds a dataset in location as if it existed before the test.
func (f *Server) PutDataset(id, location string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.datasets[id] = &bqv2.Dataset{DatasetReference: &bqv2.DatasetReference{ProjectId: "p", DatasetId: id}, Location: location}
}

// PutTable adds a table as if it existed before the test.
func (f *Server) PutTable(dataset, id string, fields []*bqv2.TableFieldSchema, tp *bqv2.TimePartitioning, clustering []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.datasets[dataset]; !ok {
		f.datasets[dataset] = &bqv2.Dataset{DatasetReference: &bqv2.DatasetReference{ProjectId: "p", DatasetId: dataset}, Location: "EU"}
	}
	t := &bqv2.Table{TableReference: &bqv2.TableReference{ProjectId: "p", DatasetId: dataset, TableId: id},
		Schema: &bqv2.TableSchema{Fields: fields}, TimePartitioning: tp}
	if clustering != nil {
		t.Clustering = &bqv2.Clustering{Fields: clustering}
	}
	f.putTableLocked(dataset, t)
}

func (f *Server) Table(dataset, id string) *Table {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tables[dataset+"."+id]
}

// upload serves jobs.insert with media: uploadType=multipart (metadata and
// media in one multipart/related body) or resumable (a session whose URI
// is in Location, then chunks with Content-Range; an incomplete chunk is
// answered with X-Http-Status-Code-Override: 308, as for clients that
// send X-GUploader-No-308).
func (f *Server) upload(r *http.Request, project string) (any, string, *apiErr) {
	q := r.URL.Query()
	switch q.Get("uploadType") {
	case "multipart":
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/related" {
			return nil, "jobs.insert(upload)", &apiErr{400, "invalid", "want multipart/related"}
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		var parts [][]byte
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, "jobs.insert(upload)", &apiErr{400, "invalid", err.Error()}
			}
			b, _ := io.ReadAll(part)
			parts = append(parts, b)
		}
		if len(parts) != 2 {
			return nil, "jobs.insert(upload)", &apiErr{400, "invalid", fmt.Sprintf("%d parts, want metadata and media", len(parts))}
		}
		var j bqv2.Job
		if err := json.Unmarshal(parts[0], &j); err != nil {
			return nil, "jobs.insert(upload)", &apiErr{400, "invalid", err.Error()}
		}
		return f.insertJob(project, &j, parts[1], "multipart")
	case "resumable":
		if id := q.Get("upload_id"); id != "" {
			return f.chunk(r, project, id)
		}
		var j bqv2.Job
		if err := json.NewDecoder(r.Body).Decode(&j); err != nil {
			return nil, "jobs.insert(resumable)", &apiErr{400, "invalid", err.Error()}
		}
		id := fmt.Sprintf("up%d", len(f.uploads)+1)
		f.uploads[id] = &upload{job: &j}
		// The session URI goes back in Location; serve writes the body.
		return sessionURI(f.srv.URL + r.URL.Path + "?uploadType=resumable&upload_id=" + id), "jobs.insert(resumable start)", nil
	}
	return nil, "jobs.insert(upload)", &apiErr{400, "invalid", "unknown uploadType " + q.Get("uploadType")}
}

// sessionURI is the answer that starts a resumable upload.
type sessionURI string

func (f *Server) chunk(r *http.Request, project, id string) (any, string, *apiErr) {
	up, ok := f.uploads[id]
	if !ok {
		return nil, "upload chunk", notFound("upload session " + id)
	}
	var first, last, total int64 = 0, -1, -1
	cr := r.Header.Get("Content-Range")
	switch {
	case strings.HasPrefix(cr, "bytes */"):
		total, _ = strconv.ParseInt(strings.TrimPrefix(cr, "bytes */"), 10, 64)
	default:
		var tot string
		if _, err := fmt.Sscanf(cr, "bytes %d-%d/%s", &first, &last, &tot); err != nil {
			return nil, "upload chunk", &apiErr{400, "invalid", "bad Content-Range " + cr}
		}
		if tot != "*" {
			total, _ = strconv.ParseInt(tot, 10, 64)
		}
	}
	if first != int64(up.data.Len()) && last >= 0 {
		return nil, "upload chunk", &apiErr{400, "invalid", fmt.Sprintf("chunk starts at %d, have %d bytes", first, up.data.Len())}
	}
	io.Copy(&up.data, r.Body)
	if total < 0 || int64(up.data.Len()) < total {
		return resumeIncomplete(up.data.Len()), "upload chunk", nil
	}
	delete(f.uploads, id)
	return f.insertJob(project, up.job, up.data.Bytes(), "resumable")
}

type resumeIncomplete int

// insertJob runs a job: a load from media, or a copy.
func (f *Server) insertJob(project string, j *bqv2.Job, media []byte, uploadType string) (any, string, *apiErr) {
	var kind string
	var dst *bqv2.TableReference
	switch {
	case j.Configuration != nil && j.Configuration.Load != nil:
		kind, dst = "load", j.Configuration.Load.DestinationTable
	case j.Configuration != nil && j.Configuration.Copy != nil:
		kind, dst = "copy", j.Configuration.Copy.DestinationTable
	default:
		return nil, "jobs.insert", &apiErr{400, "invalid", "only load and copy jobs are faked"}
	}
	op := "jobs.insert:" + kind + " " + dst.TableId
	ft := f.takeFault("jobs.insert:"+kind, dst.TableId)
	switch {
	case ft != nil && ft.After:
		f.lost = ft
	case ft != nil && ft.Code != 0:
		return nil, op, &apiErr{ft.Code, ft.Reason, ft.Message}
	}
	if j.JobReference == nil || j.JobReference.JobId == "" {
		return nil, op, &apiErr{400, "invalid", "the fake wants client-chosen job ids"}
	}
	if _, dup := f.jobs[j.JobReference.JobId]; dup {
		return nil, op, &apiErr{409, "duplicate", "Already Exists: Job " + project + ":" + j.JobReference.JobId}
	}
	j.JobReference.ProjectId = project
	if ds, ok := f.datasets[dst.DatasetId]; ok && j.JobReference.Location == "" {
		j.JobReference.Location = ds.Location
	}
	j.Id = project + ":" + j.JobReference.Location + "." + j.JobReference.JobId
	j.Status = &bqv2.JobStatus{State: "DONE"}
	j.Statistics = &bqv2.JobStatistics{CreationTime: time.Now().UnixMilli()}
	var jerr *bqv2.ErrorProto
	if ft != nil && !ft.After {
		jerr = &bqv2.ErrorProto{Reason: ft.Reason, Message: ft.Message}
	} else if kind == "load" {
		jerr = f.runLoad(j, media, uploadType)
	} else {
		jerr = f.runCopy(j)
	}
	if jerr != nil {
		j.Status.ErrorResult = jerr
		j.Status.Errors = []*bqv2.ErrorProto{jerr}
	}
	f.jobs[j.JobReference.JobId] = j
	return j, op, nil
}

func (f *Server) runLoad(j *bqv2.Job, media []byte, uploadType string) *bqv2.ErrorProto {
	lc := j.Configuration.Load
	invalid := func(format string, a ...any) *bqv2.ErrorProto {
		return &bqv2.ErrorProto{Reason: "invalid", Message: fmt.Sprintf(format, a...)}
	}
	if media == nil {
		return invalid("load job without media or source URIs")
	}
	if lc.SourceFormat != "PARQUET" {
		return invalid("source format %q, the fake reads PARQUET", lc.SourceFormat)
	}
	key := lc.DestinationTable.DatasetId + "." + lc.DestinationTable.TableId
	t, ok := f.tables[key]
	if !ok {
		return &bqv2.ErrorProto{Reason: "notFound", Message: "Not found: Table " + key}
	}
	listInference := lc.ParquetOptions != nil && lc.ParquetOptions.EnableListInference
	cols, rows, err := readParquet(media, listInference)
	if err != nil {
		return invalid("Error while reading data, error message: %v", err)
	}
	schema := t.Meta.Schema.Fields
	if lc.WriteDisposition == "WRITE_TRUNCATE" {
		schema = cols
		if lc.Schema != nil {
			schema = lc.Schema.Fields
		}
	}
	if msg := loadable(schema, cols); msg != "" {
		return invalid("Provided Schema does not match Table %s. %s", key, msg)
	}
	switch lc.WriteDisposition {
	case "WRITE_TRUNCATE":
		t.Rows = rows
		t.Meta.Schema = &bqv2.TableSchema{Fields: schema}
	case "WRITE_APPEND", "":
		t.Rows = append(t.Rows, rows...)
	default:
		return invalid("write disposition %s", lc.WriteDisposition)
	}
	t.Meta.NumRows = uint64(len(t.Rows))
	f.loads = append(f.loads, Load{Table: lc.DestinationTable.TableId, Job: j, Rows: rows, Cols: cols, Type: uploadType})
	j.Statistics.Load = &bqv2.JobStatistics3{OutputRows: int64(len(rows)), InputFiles: 1}
	return nil
}

func (f *Server) runCopy(j *bqv2.Job) *bqv2.ErrorProto {
	cc := j.Configuration.Copy
	from := cc.SourceTable
	if from == nil && len(cc.SourceTables) == 1 {
		from = cc.SourceTables[0]
	}
	if from == nil {
		return &bqv2.ErrorProto{Reason: "invalid", Message: "the fake copies exactly one source table"}
	}
	src, ok := f.tables[from.DatasetId+"."+from.TableId]
	if !ok {
		return &bqv2.ErrorProto{Reason: "notFound", Message: "Not found: Table " + from.TableId}
	}
	key := cc.DestinationTable.DatasetId + "." + cc.DestinationTable.TableId
	dst, ok := f.tables[key]
	if !ok {
		return &bqv2.ErrorProto{Reason: "notFound", Message: "Not found: Table " + key}
	}
	if cc.WriteDisposition != "WRITE_TRUNCATE" {
		return &bqv2.ErrorProto{Reason: "invalid", Message: "the fake copies with WRITE_TRUNCATE only"}
	}
	if fmt.Sprint(src.Meta.TimePartitioning) != fmt.Sprint(dst.Meta.TimePartitioning) {
		return &bqv2.ErrorProto{Reason: "invalid", Message: "Incompatible table partitioning specification."}
	}
	dst.Rows = slices.Clone(src.Rows)
	dst.Meta.NumRows = uint64(len(dst.Rows))
	dst.Meta.Schema = src.Meta.Schema // WRITE_TRUNCATE: the source's schema replaces the destination's
	return nil
}

// loadable checks a file's columns against a table, as BigQuery's Parquet
// load does: by name; a file column the table lacks, another type or mode
// is an error; a table column the file lacks must be NULLABLE.
func loadable(table, file []*bqv2.TableFieldSchema) string {
	byName := map[string]*bqv2.TableFieldSchema{}
	for _, c := range file {
		byName[strings.ToLower(c.Name)] = c
	}
	for _, tc := range table {
		fc, ok := byName[strings.ToLower(tc.Name)]
		if !ok {
			if tc.Mode == "REQUIRED" {
				return "Field " + tc.Name + " is missing in new schema"
			}
			continue
		}
		delete(byName, strings.ToLower(tc.Name))
		if fc.Type != tc.Type {
			return fmt.Sprintf("Field %s has changed type from %s to %s", tc.Name, tc.Type, fc.Type)
		}
		if fm, tm := modeOf(fc), modeOf(tc); fm != tm && (fm != "REQUIRED" || tm != "NULLABLE") {
			return fmt.Sprintf("Field %s has changed mode from %s to %s", tc.Name, tm, fm)
		}
	}
	for name := range byName {
		return "No such field: " + name
	}
	return ""
}

// additive is tables.patch's rule: existing fields keep name, type and mode
// (REQUIRED may relax to NULLABLE); new fields are NULLABLE or REPEATED.
func additive(old, upd []*bqv2.TableFieldSchema) string {
	by := map[string]*bqv2.TableFieldSchema{}
	for _, u := range upd {
		by[u.Name] = u
	}
	for _, o := range old {
		u, ok := by[o.Name]
		switch {
		case !ok:
			return "Field " + o.Name + " is missing in new schema"
		case u.Type != o.Type:
			return fmt.Sprintf("Field %s has changed type from %s to %s", o.Name, o.Type, u.Type)
		case modeOf(u) != modeOf(o) && (modeOf(o) != "REQUIRED" || modeOf(u) != "NULLABLE"):
			return fmt.Sprintf("Field %s has changed mode from %s to %s", o.Name, modeOf(o), modeOf(u))
		}
		delete(by, o.Name)
	}
	for _, u := range upd {
		if _, isNew := by[u.Name]; isNew && modeOf(u) == "REQUIRED" {
			return "Cannot add required field " + u.Name
		}
	}
	return ""
}

func modeOf(c *bqv2.TableFieldSchema) string {
	if c.Mode == "" {
		return "NULLABLE"
	}
	return c.Mode
}

// readParquet reads a Parquet file with parquet-go, maps its columns to
// BigQuery fields the way a load does, and returns its rows by column name.
func readParquet(b []byte, listInference bool) ([]*bqv2.TableFieldSchema, []map[string]any, error) {
	pf, err := pgo.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	type leaf struct {
		top    string
		list   bool
		typ    string
		maxDef int
	}
	var cols []*bqv2.TableFieldSchema
	var leaves []leaf
	for _, path := range pf.Schema().Columns() {
		lc, _ := pf.Schema().Lookup(path...)
		top := pf.Schema().Fields()[slices.IndexFunc(pf.Schema().Fields(), func(f pgo.Field) bool { return f.Name() == path[0] })]
		l := leaf{top: path[0], maxDef: lc.MaxDefinitionLevel}
		typ, err := bqTypeOf(lc.Node)
		if err != nil {
			return nil, nil, fmt.Errorf("column %s: %w", path[0], err)
		}
		l.typ = typ
		mode := "NULLABLE"
		if top.Required() {
			mode = "REQUIRED"
		}
		switch {
		case len(path) == 1:
		case len(path) == 3 && isList(top):
			if !listInference {
				typ, mode = "RECORD", "NULLABLE" // a record of a repeated record, as without inference
			} else {
				mode = "REPEATED"
			}
			l.list = true
		default:
			return nil, nil, fmt.Errorf("column %s: nesting the fake does not read", strings.Join(path, "."))
		}
		leaves = append(leaves, l)
		cols = append(cols, &bqv2.TableFieldSchema{Name: path[0], Type: typ, Mode: mode})
	}
	var rows []map[string]any
	r := pgo.NewReader(pf)
	defer r.Close()
	buf := make([]pgo.Row, 64)
	for {
		n, err := r.ReadRows(buf)
		for _, pr := range buf[:n] {
			row := map[string]any{}
			for _, v := range pr {
				l := leaves[v.Column()]
				if !l.list {
					row[l.top] = nil
					if !v.IsNull() {
						row[l.top] = goValue(l.typ, v)
					}
					continue
				}
				list, _ := row[l.top].([]any)
				if list == nil {
					list = []any{}
				}
				if v.DefinitionLevel() == l.maxDef {
					list = append(list, goValue(l.typ, v))
				}
				row[l.top] = list // BigQuery has no null arrays: a null list is []
			}
			rows = append(rows, row)
		}
		if err == io.EOF {
			return cols, rows, nil
		}
		if err != nil {
			return nil, nil, err
		}
	}
}

func isList(f pgo.Field) bool {
	_, ok := logical(f).(*format.ListType)
	return ok
}

func logical(n pgo.Node) format.LogicalTypeValue {
	if lt := n.Type().LogicalType(); lt != nil {
		return lt.Value
	}
	return nil
}

func bqTypeOf(n pgo.Node) (string, error) {
	lt := logical(n)
	switch n.Type().Kind() {
	case pgo.ByteArray:
		if _, ok := lt.(*format.StringType); ok {
			return "STRING", nil
		}
		return "BYTES", nil
	case pgo.Int64:
		if ts, ok := lt.(*format.TimestampType); ok {
			if _, micros := ts.Unit.Value.(*format.MicroSeconds); !micros || !ts.IsAdjustedToUTC {
				return "", fmt.Errorf("%s, desilo writes UTC micros", ts)
			}
			return "TIMESTAMP", nil
		}
		return "INTEGER", nil
	case pgo.Int32:
		if _, ok := lt.(*format.DateType); ok {
			return "DATE", nil
		}
		return "INTEGER", nil
	case pgo.Double:
		return "FLOAT", nil
	case pgo.Boolean:
		return "BOOLEAN", nil
	}
	return "", fmt.Errorf("parquet type %v", n.Type())
}

func goValue(typ string, v pgo.Value) any {
	switch typ {
	case "STRING":
		return string(v.ByteArray())
	case "INTEGER":
		return v.Int64()
	case "FLOAT":
		return v.Double()
	case "BOOLEAN":
		return v.Boolean()
	case "TIMESTAMP":
		return time.UnixMicro(v.Int64()).UTC()
	case "DATE":
		return time.Unix(int64(v.Int32())*86400, 0).UTC()
	}
	return nil
}
