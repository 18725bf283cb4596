// Package milvusfake is an in-process Milvus server for tests: the
// generated gRPC service of milvus-proto, implemented over in-memory
// collections, listening on a loopback port so that the official SDK (and
// the kura binary, through MILVUS_URI) talks to it exactly as to a real
// server.
//
// It records every request, so tests assert what kura sends (schema, index
// parameters, the create → wait → load → wait sequence, insert columns,
// delete expressions, search parameters, output fields), and it keeps rows
// so that ingest and search flows run end to end. Filters are evaluated
// with kura's own filter package; scores are exact (every index behaves
// as FLAT). It is a test double of the protocol, not of Milvus's
// behaviour: passing against it does not prove that a real server agrees.
package milvusfake

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/kura-rag/kura/internal/store/filter"
)

// Call is one recorded request.
type Call struct {
	Method string        // the RPC name, e.g. "CreateCollection"
	DB     string        // the database header
	Req    proto.Message // a copy of the request
}

// Options configure a fake server.
type Options struct {
	// Token, if set, is required as the authorization (an API key or
	// "user:password"), like a Milvus with authorization enabled.
	Token string
	// Databases besides "default" that exist.
	Databases []string
	// IndexPolls and LoadPolls are how many DescribeIndex and
	// GetLoadingProgress calls report "in progress" before an index is
	// built or a collection loaded, so tests see that the client waits.
	IndexPolls int
	LoadPolls  int
}

// Server is a running fake.
type Server struct {
	milvuspb.UnimplementedMilvusServiceServer

	opts Options
	lis  net.Listener
	srv  *grpc.Server

	mu     sync.Mutex
	calls  []Call
	colls  map[string]*collection // key: db + "/" + name
	nextID int64
	fail   map[string]error
}

type collection struct {
	id          int64
	schema      *schemapb.CollectionSchema
	consistency commonpb.ConsistencyLevel
	indexes     []*index
	loadPolls   int // remaining "loading" answers; -1 when not loading
	loaded      bool
	rows        []row
	nextPK      int64
}

type index struct {
	field, name string
	params      []*commonpb.KeyValuePair
	polls       int
}

type row struct {
	pk      int64
	chunkID int64
	vector  []float32
	text    string
	source  string
	meta    map[string]any
	rawMeta []byte
}

// Start starts a fake on 127.0.0.1 and a free port.
func Start(opts Options) (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, lis: lis, colls: map[string]*collection{}, nextID: 1000, fail: map[string]error{}}
	s.srv = grpc.NewServer(grpc.UnaryInterceptor(s.intercept))
	milvuspb.RegisterMilvusServiceServer(s.srv, s)
	go s.srv.Serve(lis)
	return s, nil
}

// URI is the address to give kura (MILVUS_URI).
func (s *Server) URI() string { return "http://" + s.lis.Addr().String() }

// Close stops the server.
func (s *Server) Close() { s.srv.Stop() }

// FailNext makes the next call of method fail with err (a merr error or a
// gRPC status error).
func (s *Server) FailNext(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = err
}

// Calls returns the recorded requests, only those of the given methods if
// any are named.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Methods returns the names of the recorded requests in order.
func (s *Server) Methods() []string {
	var out []string
	for _, c := range s.Calls() {
		out = append(out, c.Method)
	}
	return out
}

// Reset forgets the recorded requests (the data stays).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Rows returns how many rows collection name of the default database holds.
func (s *Server) Rows(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.colls["default/"+name]; c != nil {
		return len(c.rows)
	}
	return 0
}

// ChunkIDs returns the chunk_id of every row of collection name, in
// insertion order, duplicates included.
func (s *Server) ChunkIDs(name string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	if c := s.colls["default/"+name]; c != nil {
		for _, r := range c.rows {
			out = append(out, r.chunkID)
		}
	}
	return out
}

// SourceChunkIDs returns the chunk_id of every row of collection name
// whose source is source.
func (s *Server) SourceChunkIDs(name, source string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	if c := s.colls["default/"+name]; c != nil {
		for _, r := range c.rows {
			if r.source == source {
				out = append(out, r.chunkID)
			}
		}
	}
	return out
}

type dbKey struct{}

// intercept records the call, checks the credentials and the database as
// Milvus's proxy does, and applies FailNext.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := info.FullMethod[strings.LastIndexByte(info.FullMethod, '/')+1:]
	md, _ := metadata.FromIncomingContext(ctx)
	db := "default"
	if v := md.Get("dbname"); len(v) > 0 && v[0] != "" {
		db = v[0]
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, DB: db, Req: proto.Clone(req.(proto.Message))})
	ferr := s.fail[method]
	delete(s.fail, method)
	s.mu.Unlock()
	if s.opts.Token != "" {
		want := base64.StdEncoding.EncodeToString([]byte(s.opts.Token))
		if v := md.Get("authorization"); len(v) == 0 || v[0] != want {
			return nil, status.Error(codes.Unauthenticated, "auth check failure, please check username, password or API key are correct")
		}
	}
	if ferr != nil {
		if _, ok := status.FromError(ferr); ok {
			return nil, ferr // a transport-level failure
		}
		return statusReply(method, merr.Status(ferr)), nil
	}
	if db != "default" && !slices.Contains(s.opts.Databases, db) {
		return statusReply(method, merr.Status(merr.WrapErrDatabaseNotFound(db))), nil
	}
	return handler(context.WithValue(ctx, dbKey{}, db), req)
}

// statusReply builds the empty response of method carrying st.
func statusReply(method string, st *commonpb.Status) any {
	switch method {
	case "Connect":
		return &milvuspb.ConnectResponse{Status: st}
	case "ShowCollections":
		return &milvuspb.ShowCollectionsResponse{Status: st}
	case "DescribeCollection":
		return &milvuspb.DescribeCollectionResponse{Status: st}
	case "HasCollection":
		return &milvuspb.BoolResponse{Status: st}
	case "DescribeIndex":
		return &milvuspb.DescribeIndexResponse{Status: st}
	case "GetLoadState":
		return &milvuspb.GetLoadStateResponse{Status: st}
	case "GetLoadingProgress":
		return &milvuspb.GetLoadingProgressResponse{Status: st}
	case "Insert", "Delete", "Upsert":
		return &milvuspb.MutationResult{Status: st}
	case "Search":
		return &milvuspb.SearchResults{Status: st}
	case "Query":
		return &milvuspb.QueryResults{Status: st}
	}
	return st
}

func (s *Server) get(ctx context.Context, name string) (*collection, *commonpb.Status) {
	c := s.colls[ctx.Value(dbKey{}).(string)+"/"+name]
	if c == nil {
		return nil, merr.Status(merr.WrapErrCollectionNotFound(name))
	}
	return c, nil
}

func (s *Server) Connect(ctx context.Context, req *milvuspb.ConnectRequest) (*milvuspb.ConnectResponse, error) {
	return &milvuspb.ConnectResponse{Status: merr.Success(), ServerInfo: &commonpb.ServerInfo{BuildTags: "milvusfake"}, Identifier: 1}, nil
}

func (s *Server) ShowCollections(ctx context.Context, req *milvuspb.ShowCollectionsRequest) (*milvuspb.ShowCollectionsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := ctx.Value(dbKey{}).(string) + "/"
	resp := &milvuspb.ShowCollectionsResponse{Status: merr.Success()}
	for k, c := range s.colls {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			resp.CollectionNames = append(resp.CollectionNames, name)
			resp.CollectionIds = append(resp.CollectionIds, c.id)
		}
	}
	return resp, nil
}

func (s *Server) DescribeCollection(ctx context.Context, req *milvuspb.DescribeCollectionRequest) (*milvuspb.DescribeCollectionResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.get(ctx, req.GetCollectionName())
	if st != nil {
		return &milvuspb.DescribeCollectionResponse{Status: st}, nil
	}
	return &milvuspb.DescribeCollectionResponse{
		Status:           merr.Success(),
		Schema:           proto.Clone(c.schema).(*schemapb.CollectionSchema),
		CollectionID:     c.id,
		CollectionName:   req.GetCollectionName(),
		ConsistencyLevel: c.consistency,
		ShardsNum:        1,
	}, nil
}

func (s *Server) HasCollection(ctx context.Context, req *milvuspb.HasCollectionRequest) (*milvuspb.BoolResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, st := s.get(ctx, req.GetCollectionName())
	return &milvuspb.BoolResponse{Status: merr.Success(), Value: st == nil}, nil
}

// CreateCollection accepts a schema with an INT64 primary key and one
// float vector with a dim, and adds the $meta field when dynamic fields
// are enabled, as Milvus does.
func (s *Server) CreateCollection(ctx context.Context, req *milvuspb.CreateCollectionRequest) (*commonpb.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := req.GetCollectionName()
	if _, st := s.get(ctx, name); st == nil {
		return merr.Status(merr.WrapErrParameterInvalidMsg("collection %s already exists", name)), nil
	}
	var sc schemapb.CollectionSchema
	if err := proto.Unmarshal(req.GetSchema(), &sc); err != nil {
		return merr.Status(merr.WrapErrParameterInvalidMsg("bad schema: %v", err)), nil
	}
	var pk, vec bool
	for i, f := range sc.Fields {
		f.FieldID = int64(100 + i)
		switch {
		case f.IsPrimaryKey && f.DataType == schemapb.DataType_Int64:
			pk = true
		case f.DataType == schemapb.DataType_FloatVector:
			if _, err := strconv.Atoi(param(f.TypeParams, "dim")); err != nil {
				return merr.Status(merr.WrapErrParameterInvalidMsg("vector field %s has no dim", f.Name)), nil
			}
			vec = true
		case f.DataType == schemapb.DataType_VarChar:
			if n, err := strconv.Atoi(param(f.TypeParams, "max_length")); err != nil || n < 1 || n > 65535 {
				return merr.Status(merr.WrapErrParameterInvalidMsg("varchar field %s: bad max_length", f.Name)), nil
			}
		}
	}
	if !pk || !vec {
		return merr.Status(merr.WrapErrParameterInvalidMsg("schema needs an INT64 primary key and a float vector")), nil
	}
	if sc.EnableDynamicField {
		sc.Fields = append(sc.Fields, &schemapb.FieldSchema{FieldID: int64(100 + len(sc.Fields)), Name: "$meta", DataType: schemapb.DataType_JSON, IsDynamic: true})
	}
	s.nextID++
	s.colls[ctx.Value(dbKey{}).(string)+"/"+name] = &collection{id: s.nextID, schema: &sc, consistency: req.GetConsistencyLevel(), loadPolls: -1, nextPK: 1 << 40}
	return merr.Success(), nil
}

func (s *Server) DropCollection(ctx context.Context, req *milvuspb.DropCollectionRequest) (*commonpb.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, st := s.get(ctx, req.GetCollectionName()); st != nil {
		return st, nil
	}
	delete(s.colls, ctx.Value(dbKey{}).(string)+"/"+req.GetCollectionName())
	return merr.Success(), nil
}

func (s *Server) CreateIndex(ctx context.Context, req *milvuspb.CreateIndexRequest) (*commonpb.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.get(ctx, req.GetCollectionName())
	if st != nil {
		return st, nil
	}
	if field(c.schema, req.GetFieldName()) == nil {
		return merr.Status(merr.WrapErrParameterInvalidMsg("no field %s", req.GetFieldName())), nil
	}
	name := req.GetIndexName()
	if name == "" {
		name = req.GetFieldName()
	}
	c.indexes = append(c.indexes, &index{field: req.GetFieldName(), name: name, params: req.GetExtraParams(), polls: s.opts.IndexPolls})
	return merr.Success(), nil
}

func (s *Server) DescribeIndex(ctx context.Context, req *milvuspb.DescribeIndexRequest) (*milvuspb.DescribeIndexResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.get(ctx, req.GetCollectionName())
	if st != nil {
		return &milvuspb.DescribeIndexResponse{Status: st}, nil
	}
	resp := &milvuspb.DescribeIndexResponse{Status: merr.Success()}
	for _, ix := range c.indexes {
		if (req.GetFieldName() != "" && ix.field != req.GetFieldName()) || (req.GetIndexName() != "" && ix.name != req.GetIndexName()) {
			continue
		}
		state := commonpb.IndexState_Finished
		if ix.polls > 0 {
			ix.polls--
			state = commonpb.IndexState_InProgress
		}
		resp.IndexDescriptions = append(resp.IndexDescriptions, &milvuspb.IndexDescription{
			IndexName: ix.name, FieldName: ix.field, Params: ix.params, State: state,
			TotalRows: int64(len(c.rows)), IndexedRows: int64(len(c.rows)),
		})
	}
	if len(resp.IndexDescriptions) == 0 {
		return &milvuspb.DescribeIndexResponse{Status: merr.Status(merr.WrapErrIndexNotFound(req.GetIndexName()))}, nil
	}
	return resp, nil
}

// LoadCollection refuses a collection whose vector field has no index, as
// Milvus does.
func (s *Server) LoadCollection(ctx context.Context, req *milvuspb.LoadCollectionRequest) (*commonpb.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.get(ctx, req.GetCollectionName())
	if st != nil {
		return st, nil
	}
	for _, f := range c.schema.Fields {
		if f.DataType == schemapb.DataType_FloatVector && !slices.ContainsFunc(c.indexes, func(ix *index) bool { return ix.field == f.Name }) {
			return merr.Status(merr.WrapErrIndexNotFound(f.Name)), nil
		}
	}
	if !c.loaded && c.loadPolls < 0 {
		c.loadPolls = s.opts.LoadPolls
	}
	return merr.Success(), nil
}

func (s *Server) progress(c *collection) int64 {
	switch {
	case c.loaded:
		return 100
	case c.loadPolls < 0:
		return 0
	case c.loadPolls == 0:
		c.loaded = true
		return 100
	}
	c.loadPolls--
	return 50
}

func (s *Server) GetLoadingProgress(ctx context.Context, req *milvuspb.GetLoadingProgressRequest) (*milvuspb.GetLoadingProgressResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.get(ctx, req.GetCollectionName())
	if st != nil {
		return &milvuspb.GetLoadingProgressResponse{Status: st}, nil
	}
	p := s.progress(c)
	return &milvuspb.GetLoadingProgressResponse{Status: merr.Success(), Progress: p, RefreshProgress: p}, nil
}

func (s *Server) GetLoadState(ctx context.Context, req *milvuspb.GetLoadStateRequest) (*milvuspb.GetLoadStateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.get(ctx, req.GetCollectionName())
	if st != nil {
		return &milvuspb.GetLoadStateResponse{Status: st, State: commonpb.LoadState_LoadStateNotExist}, nil
	}
	state := commonpb.LoadState_LoadStateNotLoad
	switch {
	case c.loaded:
		state = commonpb.LoadState_LoadStateLoaded
	case c.loadPolls >= 0:
		state = commonpb.LoadState_LoadStateLoading
	}
	return &milvuspb.GetLoadStateResponse{Status: merr.Success(), State: state}, nil
}

// Release marks a collection as not loaded, as after a release or some
// server failures.
func (s *Server) Release(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.colls["default/"+name]; c != nil {
		c.loaded, c.loadPolls = false, -1
	}
}

// Insert checks the columns against the schema (names, types, vector
// dimension, VARCHAR byte lengths) as Milvus does, then stores the rows
// with fresh primary keys.
func (s *Server) Insert(ctx context.Context, req *milvuspb.InsertRequest) (*milvuspb.MutationResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.get(ctx, req.GetCollectionName())
	if st != nil {
		return &milvuspb.MutationResult{Status: st}, nil
	}
	n := int(req.GetNumRows())
	rows := make([]row, n)
	bad := func(format string, args ...any) (*milvuspb.MutationResult, error) {
		return &milvuspb.MutationResult{Status: merr.Status(merr.WrapErrParameterInvalidMsg(format, args...))}, nil
	}
	for _, fd := range req.GetFieldsData() {
		name := fd.GetFieldName()
		if fd.GetIsDynamic() {
			name = "$meta"
		}
		f := field(c.schema, name)
		if f == nil {
			return bad("field %s does not exist", name)
		}
		if f.AutoID {
			return bad("field %s is an auto id; do not insert it", name)
		}
		if f.DataType != fd.GetType() {
			return bad("field %s is %s, got %s", name, f.DataType, fd.GetType())
		}
		switch f.DataType {
		case schemapb.DataType_Int64:
			d := fd.GetScalars().GetLongData().GetData()
			if len(d) != n {
				return bad("field %s has %d values for %d rows", name, len(d), n)
			}
			for i, v := range d {
				if name == "chunk_id" {
					rows[i].chunkID = v
				}
			}
		case schemapb.DataType_VarChar:
			d := fd.GetScalars().GetStringData().GetData()
			if len(d) != n {
				return bad("field %s has %d values for %d rows", name, len(d), n)
			}
			max, _ := strconv.Atoi(param(f.TypeParams, "max_length"))
			for i, v := range d {
				if len(v) > max {
					return bad("length of varchar field %s exceeds max length, row number: %d, length: %d, max length: %d", name, i, len(v), max)
				}
				switch name {
				case "text":
					rows[i].text = v
				case "source":
					rows[i].source = v
				}
			}
		case schemapb.DataType_FloatVector:
			dim, _ := strconv.Atoi(param(f.TypeParams, "dim"))
			v := fd.GetVectors()
			d := v.GetFloatVector().GetData()
			if int(v.GetDim()) != dim || len(d) != n*dim {
				return bad("the dim (%d) of field data(%s) is not equal to schema dim (%d)", v.GetDim(), name, dim)
			}
			for i := range rows {
				rows[i].vector = d[i*dim : (i+1)*dim]
			}
		case schemapb.DataType_JSON:
			d := fd.GetScalars().GetJsonData().GetData()
			if len(d) != n {
				return bad("field %s has %d values for %d rows", name, len(d), n)
			}
			for i, raw := range d {
				m, err := decodeObject(raw)
				if err != nil {
					return bad("dynamic field of row %d is not a JSON object: %v", i, err)
				}
				rows[i].meta, rows[i].rawMeta = m, raw
			}
		default:
			return bad("field %s: type %s is not supported by the fake", name, f.DataType)
		}
	}
	pks := make([]int64, n)
	for i := range rows {
		c.nextPK++
		rows[i].pk = c.nextPK
		pks[i] = c.nextPK
	}
	c.rows = append(c.rows, rows...)
	return &milvuspb.MutationResult{Status: merr.Success(), InsertCnt: int64(n),
		IDs: &schemapb.IDs{IdField: &schemapb.IDs_IntId{IntId: &schemapb.LongArray{Data: pks}}}}, nil
}

// Delete removes the rows matching the expression.
func (s *Server) Delete(ctx context.Context, req *milvuspb.DeleteRequest) (*milvuspb.MutationResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.get(ctx, req.GetCollectionName())
	if st != nil {
		return &milvuspb.MutationResult{Status: st}, nil
	}
	expr, err := filter.Parse(req.GetExpr())
	if err != nil {
		return &milvuspb.MutationResult{Status: merr.Status(merr.WrapErrParameterInvalidMsg("cannot parse expression: %v", err))}, nil
	}
	kept := c.rows[:0]
	var n int64
	for _, r := range c.rows {
		if expr.Eval(r.get) {
			n++
			continue
		}
		kept = append(kept, r)
	}
	c.rows = kept
	return &milvuspb.MutationResult{Status: merr.Success(), DeleteCnt: n}, nil
}

func (r *row) get(f string) (any, bool) {
	switch f {
	case "id":
		return r.pk, true
	case "chunk_id":
		return r.chunkID, true
	case "text":
		return r.text, true
	case "source":
		return r.source, true
	}
	v, ok := r.meta[f]
	return v, ok
}

// match returns the rows matching expr ("" matches all), ordered by
// primary key as Milvus's query results are.
func (c *collection) match(exprText string) ([]*row, *commonpb.Status) {
	var expr *filter.Expr
	if strings.TrimSpace(exprText) != "" {
		var err error
		if expr, err = filter.Parse(exprText); err != nil {
			return nil, merr.Status(merr.WrapErrParameterInvalidMsg("cannot parse expression: %s, error: %v", exprText, err))
		}
	}
	var out []*row
	for i := range c.rows {
		if expr == nil || expr.Eval(c.rows[i].get) {
			out = append(out, &c.rows[i])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pk < out[j].pk })
	return out, nil
}

// Query answers count(*) and field queries with an optional limit/offset.
func (s *Server) Query(ctx context.Context, req *milvuspb.QueryRequest) (*milvuspb.QueryResults, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.get(ctx, req.GetCollectionName())
	if st != nil {
		return &milvuspb.QueryResults{Status: st}, nil
	}
	if !c.loaded {
		return &milvuspb.QueryResults{Status: merr.Status(merr.WrapErrCollectionNotLoaded(req.GetCollectionName()))}, nil
	}
	params := kv(req.GetQueryParams())
	if strings.TrimSpace(req.GetExpr()) == "" && params["limit"] == "" && !slices.Contains(req.GetOutputFields(), "count(*)") {
		return &milvuspb.QueryResults{Status: merr.Status(merr.WrapErrParameterInvalidMsg("empty expression should be used with limit"))}, nil
	}
	rows, st := c.match(req.GetExpr())
	if st != nil {
		return &milvuspb.QueryResults{Status: st}, nil
	}
	if slices.Contains(req.GetOutputFields(), "count(*)") {
		return &milvuspb.QueryResults{Status: merr.Success(), OutputFields: []string{"count(*)"}, FieldsData: []*schemapb.FieldData{
			longs("count(*)", []int64{int64(len(rows))}),
		}}, nil
	}
	if off, _ := strconv.Atoi(params["offset"]); off > 0 {
		rows = rows[min(off, len(rows)):]
	}
	if lim, _ := strconv.Atoi(params["limit"]); lim > 0 && lim < len(rows) {
		rows = rows[:lim]
	}
	fields := req.GetOutputFields()
	if !slices.Contains(fields, "id") && !slices.Contains(fields, "*") {
		fields = append([]string{"id"}, fields...) // Milvus always returns the primary key
	}
	data, names, st := c.columns(rows, fields)
	if st != nil {
		return &milvuspb.QueryResults{Status: st}, nil
	}
	return &milvuspb.QueryResults{Status: merr.Success(), FieldsData: data, OutputFields: names, CollectionName: req.GetCollectionName(), PrimaryFieldName: "id"}, nil
}

// columns builds the field data of the output fields: "*" means every
// field, names of schema fields are those fields, any other name is a key
// of the dynamic field, returned in a $meta column holding only the
// requested keys.
func (c *collection) columns(rows []*row, fields []string) ([]*schemapb.FieldData, []string, *commonpb.Status) {
	var data []*schemapb.FieldData
	var names, dynKeys []string
	wildcard := false
	for _, f := range fields {
		if f == "*" {
			wildcard = true
			continue
		}
		if fs := field(c.schema, f); fs != nil && !fs.IsDynamic {
			if !slices.Contains(names, f) {
				names = append(names, f)
			}
			continue
		}
		if f == "$meta" {
			wildcard = true
			continue
		}
		dynKeys = append(dynKeys, f)
		names = append(names, f)
	}
	if wildcard {
		names = names[:0]
		for _, fs := range c.schema.Fields {
			if !fs.IsDynamic {
				names = append(names, fs.Name)
			}
		}
		names = append(names, dynKeys...)
	}
	for _, name := range names {
		fs := field(c.schema, name)
		if fs == nil || fs.IsDynamic {
			continue
		}
		fd := &schemapb.FieldData{FieldName: name, FieldId: fs.FieldID, Type: fs.DataType}
		switch name {
		case "id", "chunk_id":
			v := make([]int64, len(rows))
			for i, r := range rows {
				if name == "id" {
					v[i] = r.pk
				} else {
					v[i] = r.chunkID
				}
			}
			fd = longs(name, v)
			fd.FieldId = fs.FieldID
		case "text", "source":
			v := make([]string, len(rows))
			for i, r := range rows {
				if name == "text" {
					v[i] = r.text
				} else {
					v[i] = r.source
				}
			}
			fd.Field = &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_StringData{StringData: &schemapb.StringArray{Data: v}}}}
		case "vector":
			dim, _ := strconv.Atoi(param(fs.TypeParams, "dim"))
			var v []float32
			for _, r := range rows {
				v = append(v, r.vector...)
			}
			fd.Field = &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: int64(dim), Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: v}}}}
		default:
			return nil, nil, merr.Status(merr.WrapErrParameterInvalidMsg("field %s cannot be returned by the fake", name))
		}
		data = append(data, fd)
	}
	if (wildcard || len(dynKeys) > 0) && c.schema.EnableDynamicField {
		v := make([][]byte, len(rows))
		for i, r := range rows {
			if wildcard {
				v[i] = r.rawMeta
				if v[i] == nil {
					v[i] = []byte("{}")
				}
				continue
			}
			sub := map[string]json.RawMessage{}
			for _, k := range dynKeys {
				if x, ok := r.meta[k]; ok {
					sub[k], _ = json.Marshal(x)
				}
			}
			v[i], _ = json.Marshal(sub)
		}
		fs := field(c.schema, "$meta")
		data = append(data, &schemapb.FieldData{FieldName: "$meta", FieldId: fs.FieldID, Type: schemapb.DataType_JSON, IsDynamic: true,
			Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_JsonData{JsonData: &schemapb.JSONArray{Data: v}}}}})
	}
	if wildcard {
		names = append(names, "$meta")
	}
	return data, names, nil
}

// Search scores every matching row exactly with the metric of the request
// (or of the vector index) and returns the best topk.
func (s *Server) Search(ctx context.Context, req *milvuspb.SearchRequest) (*milvuspb.SearchResults, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st := s.get(ctx, req.GetCollectionName())
	if st != nil {
		return &milvuspb.SearchResults{Status: st}, nil
	}
	if !c.loaded {
		return &milvuspb.SearchResults{Status: merr.Status(merr.WrapErrCollectionNotLoaded(req.GetCollectionName()))}, nil
	}
	bad := func(format string, args ...any) (*milvuspb.SearchResults, error) {
		return &milvuspb.SearchResults{Status: merr.Status(merr.WrapErrParameterInvalidMsg(format, args...))}, nil
	}
	p := kv(req.GetSearchParams())
	topk, err := strconv.Atoi(p["topk"])
	if err != nil || topk < 1 || topk > 16384 {
		return bad("topk %q should be in range [1, 16384]", p["topk"])
	}
	var ps json.RawMessage
	if err := json.Unmarshal([]byte(p["params"]), &ps); err != nil {
		return bad("search params %q are not JSON", p["params"])
	}
	metric := p["metric_type"]
	for _, ix := range c.indexes {
		if ix.field == p["anns_field"] || (p["anns_field"] == "" && ix.field == "vector") {
			if im := param(ix.params, "metric_type"); metric == "" {
				metric = im
			} else if im != metric {
				return bad("metric type not match: invalid parameter[expected=%s][actual=%s]", im, metric)
			}
		}
	}
	var phg commonpb.PlaceholderGroup
	if err := proto.Unmarshal(req.GetPlaceholderGroup(), &phg); err != nil || len(phg.Placeholders) != 1 {
		return bad("bad placeholder group")
	}
	vecField := field(c.schema, "vector")
	dim, _ := strconv.Atoi(param(vecField.TypeParams, "dim"))
	res := &schemapb.SearchResultData{NumQueries: int64(len(phg.Placeholders[0].Values)), TopK: int64(topk),
		Ids: &schemapb.IDs{IdField: &schemapb.IDs_IntId{IntId: &schemapb.LongArray{}}}}
	var all []*row
	for _, raw := range phg.Placeholders[0].Values {
		if len(raw) != 4*dim {
			return bad("the dimension of the query vector (%d) does not match the field's (%d)", len(raw)/4, dim)
		}
		q := make([]float32, dim)
		for i := range q {
			q[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		rows, st := c.match(req.GetDsl())
		if st != nil {
			return &milvuspb.SearchResults{Status: st}, nil
		}
		type scored struct {
			r     *row
			score float32
		}
		hits := make([]scored, len(rows))
		for i, r := range rows {
			hits[i] = scored{r, score(metric, q, r.vector)}
		}
		sort.SliceStable(hits, func(i, j int) bool {
			if metric == "L2" {
				return hits[i].score < hits[j].score
			}
			return hits[i].score > hits[j].score
		})
		hits = hits[:min(topk, len(hits))]
		res.Topks = append(res.Topks, int64(len(hits)))
		for _, h := range hits {
			res.Scores = append(res.Scores, h.score)
			res.Ids.GetIntId().Data = append(res.Ids.GetIntId().Data, h.r.pk)
			all = append(all, h.r)
		}
	}
	if len(req.GetOutputFields()) > 0 {
		data, names, st := c.columns(all, req.GetOutputFields())
		if st != nil {
			return &milvuspb.SearchResults{Status: st}, nil
		}
		res.FieldsData, res.OutputFields = data, names
	}
	return &milvuspb.SearchResults{Status: merr.Success(), Results: res, CollectionName: req.GetCollectionName()}, nil
}

func score(metric string, q, v []float32) float32 {
	var dot, qq, vv, l2 float64
	for i := range q {
		a, b := float64(q[i]), float64(v[i])
		dot += a * b
		qq += a * a
		vv += b * b
		l2 += (a - b) * (a - b)
	}
	switch metric {
	case "IP":
		return float32(dot)
	case "L2":
		return float32(l2)
	}
	if qq == 0 || vv == 0 {
		return 0
	}
	return float32(dot / math.Sqrt(qq*vv))
}

func field(sc *schemapb.CollectionSchema, name string) *schemapb.FieldSchema {
	for _, f := range sc.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func param(kvs []*commonpb.KeyValuePair, key string) string {
	for _, p := range kvs {
		if p.Key == key {
			return p.Value
		}
	}
	return ""
}

func kv(kvs []*commonpb.KeyValuePair) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, p := range kvs {
		m[p.Key] = p.Value
	}
	return m
}

func longs(name string, v []int64) *schemapb.FieldData {
	return &schemapb.FieldData{FieldName: name, Type: schemapb.DataType_Int64,
		Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: v}}}}}
}

func decodeObject(raw []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("null")
	}
	return m, nil
}
