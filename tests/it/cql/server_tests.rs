//! Tests of the CQL test server: the real scylla 1.9 driver against a 3-node ring (auth,
//! metadata, token-range scan, token computation, every type), and raw frames for what a
//! driver will not show (protocol versions, paging edges, faults, malformed bytes).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::policies::load_balancing::{NodeIdentifier, SingleTargetLoadBalancingPolicy};
use scylla::response::PagingState;
use scylla::value::Row;

use super::alltypes::all_types_table;
use super::cells::*;
use super::raw::{QueryParams, RawClient, decode_prepared, decode_rows};
use super::server::{ClusterOptions, CqlCluster, ErrorCode, Fault};
use super::store::token_of;
use super::types::{Column, CqlType, Table};
use super::wire::{Put, code, opcode};

/// `rows` rows of `(pk bigint, v text)` with v = "v<pk>".
fn kv_table(keyspace: &str, name: &str, rows: i64) -> Table {
    Table {
        keyspace: keyspace.into(),
        name: name.into(),
        columns: vec![
            Column::pk("pk", CqlType::BigInt),
            Column::regular("v", CqlType::Text),
        ],
        rows: (0..rows)
            .map(|i| vec![Some(cell_bigint(i)), Some(cell_text(&format!("v{i}")))])
            .collect(),
    }
}

async fn session(cluster: &CqlCluster, creds: Option<(&str, &str)>) -> Result<Session, String> {
    let mut b = SessionBuilder::new().known_nodes(cluster.contact_points());
    if let Some((u, p)) = creds {
        b = b.user(u, p);
    }
    b.build().await.map_err(|e| format!("{e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scylla_driver_scans_every_ring_range_once_on_three_nodes() {
    let cluster = CqlCluster::start(ClusterOptions {
        nodes: 3,
        credentials: Some(("cassandra".into(), "cassandra".into())),
        vnodes: 4,
        ..Default::default()
    })
    .await;
    cluster.add_table(kv_table("scan_ks", "scan_t", 2000));
    let started = Instant::now();
    let session = session(&cluster, Some(("cassandra", "cassandra")))
        .await
        .expect("session");
    let connect = started.elapsed();

    // The driver's ring is the server's: 3 × 4 tokens over 3 distinct nodes.
    let state = session.get_cluster_state();
    let hosts = cluster.hosts();
    let index = |ip: std::net::IpAddr| hosts.iter().position(|h| *h == ip.to_string()).unwrap();
    let ring: Vec<(i64, usize)> = state
        .replica_locator()
        .ring()
        .iter()
        .map(|(t, n)| (t.value(), index(n.address.ip())))
        .collect();
    assert_eq!(ring, cluster.ring());
    assert_eq!(ring.len(), 12);
    assert_eq!(
        ring.iter().map(|(_, n)| *n).collect::<BTreeSet<_>>().len(),
        3
    );
    let nodes: HashMap<i64, _> = state
        .replica_locator()
        .ring()
        .iter()
        .map(|(t, n)| (t.value(), n.clone()))
        .collect();

    // What the driver read at connect: topology and schema (prepared, then executed), and
    // one authenticated pool connection per node.
    let log = cluster.requests();
    let executed: BTreeSet<&str> = log
        .iter()
        .filter(|r| r.opcode == opcode::EXECUTE)
        .filter_map(|r| r.query.as_deref()?.split(" FROM ").nth(1))
        .map(|t| t.split(' ').next().unwrap())
        .collect();
    for table in [
        "system.peers",
        "system.local",
        "system_schema.types",
        "system_schema.columns",
        "system_schema.tables",
        "system_schema.views",
        "system_schema.keyspaces",
    ] {
        assert!(executed.contains(table), "{table} not read: {executed:?}");
    }
    for node in 0..3 {
        assert!(
            log.iter()
                .any(|r| r.node == node && r.opcode == opcode::AUTH_RESPONSE),
            "a pool connection to node {node}"
        );
    }
    // A token-range scan, each range sent to the node owning its end.
    cluster.clear_requests();
    let query = "SELECT pk, v FROM scan_ks.scan_t WHERE token(pk) > ? AND token(pk) <= ?";
    let mut prepared = session.prepare(query).await.expect("prepare");
    prepared.set_page_size(100);
    let mut bounds = vec![i64::MIN];
    bounds.extend(ring.iter().map(|(t, _)| *t));
    let mut got: Vec<(i64, String)> = Vec::new();
    let mut pages = 0;
    let scan = Instant::now();
    for w in bounds.windows(2) {
        let (start, end) = (w[0], w[1]);
        let mut stmt = prepared.clone();
        stmt.set_load_balancing_policy(Some(SingleTargetLoadBalancingPolicy::new(
            NodeIdentifier::Node(nodes[&end].clone()),
            None,
        )));
        let mut paging = PagingState::start();
        loop {
            let (result, next) = session
                .execute_single_page(&stmt, (start, end), paging)
                .await
                .expect("page");
            pages += 1;
            let rows = result.into_rows_result().expect("rows");
            assert!(rows.rows_num() <= 100);
            for r in rows.rows::<(i64, String)>().expect("typed rows") {
                got.push(r.expect("row"));
            }
            match next.into_paging_control_flow() {
                std::ops::ControlFlow::Continue(s) => paging = s,
                std::ops::ControlFlow::Break(()) => break,
            }
        }
    }
    let scan = scan.elapsed();
    got.sort();
    let want: Vec<(i64, String)> = (0..2000).map(|i| (i, format!("v{i}"))).collect();
    assert_eq!(got, want, "every row exactly once");

    let executes: Vec<_> = cluster
        .requests()
        .into_iter()
        .filter(|r| r.opcode == opcode::EXECUTE && r.query.as_deref() == Some(query))
        .collect();
    assert_eq!(executes.len(), pages);
    assert!(executes.iter().all(|r| r.page_size == Some(100)));
    for r in &executes {
        let end = i64::from_be_bytes(r.values[1].as_deref().unwrap().try_into().unwrap());
        let owner = ring.iter().find(|(t, _)| *t == end).unwrap().1;
        assert_eq!(r.node, owner, "the range ending at {end} went to its owner");
    }
    assert_eq!(
        executes.iter().map(|r| r.node).collect::<BTreeSet<_>>(),
        BTreeSet::from([0, 1, 2])
    );
    // One page per started 100 rows of each range (at least one per range).
    let tokens: Vec<i64> = (0..2000).map(|i| token_of(&[&cell_bigint(i)])).collect();
    let expected_pages: usize = bounds
        .windows(2)
        .map(|w| {
            let n = tokens
                .iter()
                .filter(|t| (w[0] == i64::MIN || **t > w[0]) && **t <= w[1])
                .count();
            n.div_ceil(100).max(1)
        })
        .sum();
    assert_eq!(pages, expected_pages);
    eprintln!("scylla: connect {connect:?}, scan of 2000 rows in {pages} pages {scan:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scylla_driver_fails_on_a_wrong_password() {
    let cluster = CqlCluster::start(ClusterOptions {
        nodes: 2,
        credentials: Some(("cassandra".into(), "cassandra".into())),
        ..Default::default()
    })
    .await;
    let err = match session(&cluster, Some(("cassandra", "nope"))).await {
        Ok(_) => panic!("a wrong password must fail"),
        Err(e) => e,
    };
    assert!(
        err.contains("Provided username cassandra and/or password are incorrect"),
        "{err}"
    );
    let err = match session(&cluster, None).await {
        Ok(_) => panic!("no credentials must fail"),
        Err(e) => e,
    };
    assert!(err.contains("Authentication"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scylla_driver_agrees_on_tokens_and_reads_every_type() {
    let cluster = CqlCluster::start(ClusterOptions::default()).await;
    let composite = Table {
        keyspace: "tok_ks".into(),
        name: "composite".into(),
        columns: vec![
            Column::pk("a", CqlType::Int),
            Column::pk("b", CqlType::Text),
            Column::ck("c", CqlType::Int),
            Column::regular("v", CqlType::Blob),
        ],
        rows: (0..200)
            .map(|i| {
                vec![
                    Some(cell_int(i / 3)),
                    Some(cell_text(&format!("b{}", i % 7))),
                    Some(cell_int(i)),
                    Some(cell_blob(&[i as u8])),
                ]
            })
            .collect(),
    };
    cluster.add_table(composite);
    cluster.add_table(kv_table("tok_ks", "single", 100));
    let (all, _) = all_types_table("tok_ks", "all_types", 30);
    cluster.add_table(all);
    let session = session(&cluster, None).await.expect("session");
    let state = session.get_cluster_state();

    let rows = session
        .query_unpaged("SELECT token(a, b), a, b FROM tok_ks.composite", ())
        .await
        .expect("select token")
        .into_rows_result()
        .expect("rows");
    assert_eq!(rows.rows_num(), 200);
    let mut last = i64::MIN;
    for r in rows.rows::<(i64, i32, String)>().unwrap() {
        let (token, a, b) = r.unwrap();
        let driver = state
            .compute_token("tok_ks", "composite", &(a, b.as_str()))
            .expect("compute_token");
        assert_eq!(driver.value(), token, "token({a}, {b})");
        assert!(token >= last, "rows come in token order");
        last = token;
    }
    for pk in [0i64, 1, -1, 42, i64::MAX] {
        let driver = state.compute_token("tok_ks", "single", &(pk,)).unwrap();
        assert_eq!(driver.value(), token_of(&[&cell_bigint(pk)]));
    }

    // Every type decodes in the driver, with the server's metadata.
    let rows = session
        .query_unpaged("SELECT * FROM tok_ks.all_types", ())
        .await
        .expect("select all types")
        .into_rows_result()
        .expect("rows");
    assert_eq!(rows.rows_num(), 30);
    let decoded: Vec<Row> = rows.rows::<Row>().unwrap().map(|r| r.unwrap()).collect();
    assert_eq!(decoded.len(), 30);
    let table = state
        .get_keyspace("tok_ks")
        .and_then(|k| k.tables.get("all_types"))
        .expect("table metadata");
    assert_eq!(table.columns.len(), 29);
    assert_eq!(table.partition_key, vec!["pk".to_string()]);
    session
        .await_schema_agreement()
        .await
        .expect("schema agreement (system.local and system.peers)");
}

fn params(page_size: Option<i32>) -> QueryParams {
    QueryParams {
        consistency: 0x0001,
        page_size,
        ..Default::default()
    }
}

/// All rows of `cql` via QUERY pages of `page_size`; returns (page lengths, rows).
async fn pages(
    c: &mut RawClient,
    cql: &str,
    values: Option<Vec<Option<Vec<u8>>>>,
    page_size: i32,
) -> (Vec<usize>, Vec<Vec<Option<Vec<u8>>>>) {
    let mut p = params(Some(page_size));
    p.values = values;
    let mut lens = Vec::new();
    let mut all = Vec::new();
    loop {
        let rows = decode_rows(&c.query(cql, &p).await);
        lens.push(rows.rows.len());
        all.extend(rows.rows);
        match rows.paging_state {
            Some(ps) => p.paging_state = Some(ps),
            None => return (lens, all),
        }
    }
}

#[tokio::test]
async fn raw_protocol_versions_paging_and_statements() {
    let cluster = CqlCluster::start(ClusterOptions::default()).await;
    cluster.add_table(kv_table("raw_ks", "kv", 1000));
    let mut c = RawClient::connect("127.0.0.1", cluster.port()).await;

    // A v5 and a v2 request: Cassandra's protocol error, stream echoed, connection kept.
    for (version, header_len) in [(0x05u8, 9), (0x02, 8)] {
        let mut frame = vec![version, 0];
        if header_len == 9 {
            frame.extend(7i16.to_be_bytes());
        } else {
            frame.push(7);
        }
        frame.push(opcode::OPTIONS);
        frame.extend(0i32.to_be_bytes());
        tokio::io::AsyncWriteExt::write_all(&mut c.stream, &frame)
            .await
            .unwrap();
        let f = c.recv().await.expect("an answer");
        assert_eq!((f.version, f.stream), (0x84, 7));
        let (code, msg) = f.error().unwrap();
        assert_eq!(code, code::PROTOCOL_ERROR);
        assert_eq!(
            msg,
            format!(
                "Invalid or unsupported protocol version ({version}); supported versions are (3/v3, 4/v4)"
            )
        );
    }
    let f = c.request(opcode::OPTIONS, &[]).await;
    assert_eq!(f.opcode, opcode::SUPPORTED);
    let f = c.query("SELECT * FROM raw_ks.kv", &params(None)).await;
    assert_eq!(f.error().unwrap().0, code::PROTOCOL_ERROR, "before STARTUP");
    c.startup(None).await;

    // Exact pages, token order, every row once.
    let (lens, rows) = pages(&mut c, "SELECT * FROM raw_ks.kv", None, 100).await;
    assert_eq!(lens, vec![100; 10]);
    let tokens: Vec<i64> = rows
        .iter()
        .map(|r| token_of(&[r[0].as_deref().unwrap()]))
        .collect();
    assert!(tokens.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        rows.iter()
            .map(|r| r[0].clone())
            .collect::<BTreeSet<_>>()
            .len(),
        1000
    );
    let (lens, _) = pages(&mut c, "SELECT * FROM raw_ks.kv", None, 333).await;
    assert_eq!(lens, vec![333, 333, 333, 1]);
    let all = decode_rows(&c.query("select * from RAW_KS.KV", &params(None)).await);
    assert_eq!(all.rows.len(), 1000, "no page size: one page");
    assert_eq!(all.paging_state, None);
    let (lens, _) = pages(&mut c, "SELECT pk FROM raw_ks.kv LIMIT 250", None, 100).await;
    assert_eq!(lens, vec![100, 100, 50]);

    // Token bounds, as literals and bound bigints; the minimum token is unbounded.
    let mid = tokens[500];
    let q = format!(
        "SELECT pk FROM raw_ks.kv WHERE token(pk) > {} AND token(pk) <= {mid}",
        tokens[99]
    );
    let (_, r) = pages(&mut c, &q, None, 64).await;
    assert_eq!(r.len(), 401);
    let q = "SELECT pk, token(pk) FROM raw_ks.kv WHERE token(pk) > ? AND token(pk) <= ?";
    let b = |t: i64| Some(cell_bigint(t));
    let (_, r) = pages(&mut c, q, Some(vec![b(mid), b(i64::MIN)]), 1000).await;
    assert_eq!(r.len(), 499, "(mid, MIN] runs to the end of the ring");
    assert_eq!(r[0][1], Some(cell_bigint(tokens[501])), "token() selector");
    let (_, r) = pages(&mut c, q, Some(vec![b(i64::MIN), b(i64::MAX)]), 1000).await;
    assert_eq!(r.len(), 1000);
    let (_, r) = pages(&mut c, q, Some(vec![b(mid), b(tokens[100])]), 1000).await;
    assert!(r.is_empty(), "start after end");

    // Partition key equality and IN; literal and bound.
    let (_, r) = pages(&mut c, "SELECT v FROM raw_ks.kv WHERE pk = 42", None, 10).await;
    assert_eq!(r, vec![vec![Some(cell_text("v42"))]]);
    let (_, r) = pages(
        &mut c,
        "SELECT v FROM raw_ks.kv WHERE pk = ?",
        Some(vec![b(-5)]),
        10,
    )
    .await;
    assert!(r.is_empty());
    let (_, r) = pages(
        &mut c,
        "SELECT v FROM raw_ks.kv WHERE pk IN (1, 2, 3)",
        None,
        2,
    )
    .await;
    assert_eq!(r.len(), 3);

    // USE, then unqualified names; errors.
    let f = c.query("USE \"raw_ks\"", &params(None)).await;
    assert_eq!(f.opcode, opcode::RESULT);
    let f = c.query("SELECT count(*) FROM kv", &params(None)).await;
    assert_eq!(f.error().unwrap().0, code::SYNTAX_ERROR);
    let f = c.query("SELECT * FROM nope", &params(None)).await;
    assert_eq!(
        f.error().unwrap(),
        (code::INVALID, "unconfigured table nope".into())
    );
    let f = c
        .query("INSERT INTO kv (pk) VALUES (1)", &params(None))
        .await;
    assert_eq!(f.error().unwrap().0, code::SYNTAX_ERROR);
    let f = c.query("SELECT nope FROM kv", &params(None)).await;
    assert_eq!(f.error().unwrap().0, code::INVALID);
    let f = c
        .query("SELECT * FROM system.peers_v2", &params(None))
        .await;
    assert_eq!(
        f.error().unwrap(),
        (code::INVALID, "unconfigured table peers_v2".into())
    );

    // PREPARE / EXECUTE: marker metadata, skip_metadata, named values, Unprepared.
    let p = decode_prepared(&c.prepare("SELECT * FROM kv WHERE pk = ?").await);
    assert_eq!(p.markers, vec!["pk"]);
    assert_eq!(p.pk_indexes, vec![0]);
    assert_eq!(p.columns, vec!["pk", "v"]);
    let mut ep = params(Some(10));
    ep.values = Some(vec![b(7)]);
    ep.skip_metadata = true;
    let rows = decode_rows(&c.execute(&p.id, &ep).await);
    assert_eq!(rows.flags & 0x0004, 0x0004, "No_metadata");
    assert!(rows.names.is_empty());
    assert_eq!(rows.rows, vec![vec![b(7), Some(cell_text("v7"))]]);
    let p = decode_prepared(&c.prepare(q).await);
    assert_eq!(
        p.markers,
        vec!["partition key token", "partition key token"]
    );
    assert!(p.pk_indexes.is_empty());
    let mut ep = params(Some(1000));
    ep.values = Some(vec![b(i64::MIN), b(mid)]);
    ep.names = Some(vec![
        "partition key token".into(),
        "partition key token".into(),
    ]);
    ep.serial_consistency = Some(0x0008);
    ep.timestamp = Some(1234);
    assert_eq!(decode_rows(&c.execute(&p.id, &ep).await).rows.len(), 501);
    let f = c.execute(b"0123456789abcdef", &ep).await;
    assert_eq!(f.error().unwrap().0, code::UNPREPARED);
    let mut id = Vec::new();
    id.put_short_bytes(b"0123456789abcdef");
    assert_eq!(f.error_extra(), id);
    let p = decode_prepared(
        &c.prepare("SELECT * FROM system.local WHERE key='local'")
            .await,
    );
    assert!(p.markers.is_empty());
    assert!(p.columns.contains(&"tokens".to_string()));
    let f = c.request(opcode::BATCH, &[0, 0, 0]).await;
    assert_eq!(f.error().unwrap().0, code::INVALID);

    let log = cluster.requests();
    assert!(log.iter().all(|r| r.node == 0));
    let ex = log.iter().rfind(|r| r.opcode == opcode::EXECUTE).unwrap();
    assert_eq!(ex.query, None, "an unknown id has no text");
    let ex = log
        .iter()
        .rfind(|r| r.opcode == opcode::EXECUTE && r.query.is_some())
        .unwrap();
    assert_eq!(ex.query.as_deref(), Some(q));
    assert_eq!((ex.consistency, ex.page_size), (Some(1), Some(1000)));
    assert_eq!(ex.values, vec![b(i64::MIN), b(mid)]);
}

#[tokio::test]
async fn raw_system_tables_answer_from_each_node() {
    let cluster = CqlCluster::start(ClusterOptions {
        nodes: 3,
        vnodes: 2,
        ..Default::default()
    })
    .await;
    cluster.add_table(kv_table("sys_ks", "a", 1));
    cluster.add_table(kv_table("sys_ks2", "b", 1));
    let mut c = RawClient::connect("127.0.0.2", cluster.port()).await;
    c.startup(None).await;
    let peers = decode_rows(
        &c.query(
            "SELECT peer, rpc_address, tokens FROM system.peers",
            &params(None),
        )
        .await,
    );
    let ips: Vec<_> = peers.rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        ips,
        vec![
            Some(cell_inet("127.0.0.1".parse().unwrap())),
            Some(cell_inet("127.0.0.3".parse().unwrap()))
        ]
    );
    let local = decode_rows(&c.query("SELECT * FROM system.local", &params(None)).await);
    assert_eq!(local.rows.len(), 1);
    let at = |name: &str| local.names.iter().position(|n| n == name).unwrap();
    assert_eq!(
        local.rows[0][at("rpc_address")],
        Some(cell_inet("127.0.0.2".parse().unwrap()))
    );
    let mine: Vec<String> = cluster
        .ring()
        .iter()
        .filter(|(_, n)| *n == 1)
        .map(|(t, _)| t.to_string())
        .collect();
    let mut sorted = mine.clone();
    sorted.sort();
    assert_eq!(
        local.rows[0][at("tokens")],
        Some(cell_set(sorted.iter().map(|t| cell_text(t)).collect()))
    );
    let cols = decode_rows(
        &c.query(
            "SELECT column_name, kind, position, type FROM system_schema.columns WHERE keyspace_name = 'sys_ks2'",
            &params(None),
        )
        .await,
    );
    assert_eq!(
        cols.rows,
        vec![
            vec![
                Some(cell_text("pk")),
                Some(cell_text("partition_key")),
                Some(cell_int(0)),
                Some(cell_text("bigint"))
            ],
            vec![
                Some(cell_text("v")),
                Some(cell_text("regular")),
                Some(cell_int(-1)),
                Some(cell_text("text"))
            ],
        ]
    );
    let mut p = params(None);
    p.values = Some(vec![Some(cell_list(vec![cell_text("sys_ks")]))]);
    let ks = decode_rows(
        &c.query(
            "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name IN ?",
            &p,
        )
        .await,
    );
    assert_eq!(ks.rows, vec![vec![Some(cell_text("sys_ks"))]]);
    for missing in [
        "system_schema.scylla_tables",
        "system_schema.scylla_keyspaces",
        "system_virtual_schema.keyspaces",
    ] {
        let f = c
            .query(&format!("SELECT * FROM {missing}"), &params(None))
            .await;
        assert_eq!(f.error().unwrap().0, code::INVALID, "{missing}");
    }
    let views = decode_rows(
        &c.query("SELECT * FROM system_schema.views", &params(None))
            .await,
    );
    assert!(views.rows.is_empty() && !views.names.is_empty());
}

#[tokio::test]
async fn raw_faults_errors_delays_and_dropped_connections() {
    let cluster = CqlCluster::start(ClusterOptions {
        nodes: 2,
        ..Default::default()
    })
    .await;
    cluster.add_table(kv_table("fault_ks", "kv", 100));
    let mut c = RawClient::connect("127.0.0.1", cluster.port()).await;
    c.startup(None).await;
    let q = "SELECT * FROM fault_ks.kv";
    let mut p = params(Some(10));
    p.consistency = 0x0006; // LOCAL_QUORUM

    // Errors, with their extra fields; system tables are unaffected.
    cluster.inject(
        0,
        Fault::Error {
            code: ErrorCode::ReadTimeout,
            times: 2,
        },
    );
    for _ in 0..2 {
        let f = c.query(q, &p).await;
        assert_eq!(f.error().unwrap().0, code::READ_TIMEOUT);
        assert_eq!(f.error_extra(), vec![0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
        let local = c.query("SELECT key FROM system.local", &p).await;
        assert_eq!(local.opcode, opcode::RESULT);
    }
    assert_eq!(decode_rows(&c.query(q, &p).await).rows.len(), 10);
    cluster.inject(
        0,
        Fault::Error {
            code: ErrorCode::Unavailable,
            times: 1,
        },
    );
    let f = c.query(q, &p).await;
    assert_eq!(f.error().unwrap().0, code::UNAVAILABLE);
    assert_eq!(f.error_extra(), vec![0, 6, 0, 0, 0, 1, 0, 0, 0, 0]);
    cluster.inject(
        0,
        Fault::Error {
            code: ErrorCode::Overloaded,
            times: 1,
        },
    );
    let f = c.query(q, &p).await;
    assert_eq!(f.error().unwrap().0, code::OVERLOADED);
    assert!(f.error_extra().is_empty());

    // Delay: only the faulty node's data pages.
    cluster.inject(1, Fault::Delay(Duration::from_millis(300)));
    let mut d = RawClient::connect("127.0.0.2", cluster.port()).await;
    d.startup(None).await;
    let t = Instant::now();
    d.query("SELECT key FROM system.local", &p).await;
    assert!(t.elapsed() < Duration::from_millis(250));
    let t = Instant::now();
    decode_rows(&d.query(q, &p).await);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    decode_rows(&c.query(q, &p).await);
    assert!(t.elapsed() < Duration::from_millis(250));
    cluster.inject(1, Fault::Clear);
    let t = Instant::now();
    decode_rows(&d.query(q, &p).await);
    assert!(t.elapsed() < Duration::from_millis(250));

    // Dropped connection after 2 more pages: a partial header, then EOF.
    cluster.inject(0, Fault::DropConnectionAfterPages(2));
    let first = decode_rows(&c.query(q, &p).await);
    p.paging_state = first.paging_state;
    let second = decode_rows(&c.query(q, &p).await);
    p.paging_state = second.paging_state;
    c.send(0x04, opcode::QUERY, &{
        let mut body = Vec::new();
        body.put_long_string(q);
        p.encode(&mut body);
        body
    })
    .await;
    let mut partial = Vec::new();
    let n = tokio::io::AsyncReadExt::read_to_end(&mut c.stream, &mut partial)
        .await
        .unwrap();
    assert!(
        n > 0 && n < 9,
        "a partial frame header, then close: {partial:?}"
    );
    // The node keeps serving, and the fault was one-shot.
    let mut e = RawClient::connect("127.0.0.1", cluster.port()).await;
    e.startup(None).await;
    let again = decode_rows(&e.query(q, &p).await);
    assert_eq!(
        again.rows.len(),
        10,
        "resumes from the paging state on a new connection"
    );
}

#[tokio::test]
async fn raw_auth_and_malformed_bytes() {
    let cluster = CqlCluster::start(ClusterOptions {
        credentials: Some(("u".into(), "p".into())),
        ..Default::default()
    })
    .await;
    cluster.add_table(kv_table("bad_ks", "kv", 10));
    let mut c = RawClient::connect("127.0.0.1", cluster.port()).await;
    let mut body = Vec::new();
    body.put_u16(1);
    body.put_string("CQL_VERSION");
    body.put_string("3.0.0");
    let f = c.request(opcode::STARTUP, &body).await;
    assert_eq!(f.opcode, 0x03, "AUTHENTICATE");
    let f = c.query("SELECT * FROM bad_ks.kv", &params(None)).await;
    assert_eq!(f.error().unwrap().0, code::PROTOCOL_ERROR);
    let f = c.auth("u", "wrong").await;
    assert_eq!(
        f.error().unwrap(),
        (
            code::BAD_CREDENTIALS,
            "Provided username u and/or password are incorrect".into()
        )
    );
    let f = c.auth("u", "p").await;
    assert_eq!(f.opcode, opcode::AUTH_SUCCESS);
    assert_eq!(
        decode_rows(&c.query("SELECT * FROM bad_ks.kv", &params(None)).await)
            .rows
            .len(),
        10
    );

    // Garbage: a huge length, a truncated body, a response frame. Each closes only its
    // own connection.
    let garbage: [&[u8]; 3] = [
        &[0x04, 0, 0, 1, opcode::QUERY, 0x7f, 0xff, 0xff, 0xff],
        &[0x04, 0, 0, 1, opcode::QUERY, 0, 0, 0, 3, 0, 0, 0],
        &[0x84, 0, 0, 1, opcode::RESULT, 0, 0, 0, 0],
    ];
    for g in garbage {
        let mut b = RawClient::connect("127.0.0.1", cluster.port()).await;
        b.startup(Some(("u", "p"))).await;
        tokio::io::AsyncWriteExt::write_all(&mut b.stream, g)
            .await
            .unwrap();
        assert!(b.recv().await.is_none(), "closed after {g:?}");
    }
    assert_eq!(
        decode_rows(&c.query("SELECT * FROM bad_ks.kv", &params(None)).await)
            .rows
            .len(),
        10
    );
}

/// Pages of `cql` read without decoding cells (only the row count and paging state):
/// returns the row count.
async fn count_rows(c: &mut RawClient, cql: &str, values: Option<Vec<Option<Vec<u8>>>>) -> usize {
    let mut p = params(Some(5000));
    p.values = values;
    let mut total = 0;
    loop {
        let f = c.query(cql, &p).await;
        let mut r = super::wire::Reader::new(&f.body);
        assert_eq!(r.i32().unwrap(), 0x0002);
        let flags = r.i32().unwrap();
        let columns = r.i32().unwrap() as usize;
        p.paging_state = if flags & 0x0002 != 0 {
            r.bytes().unwrap().map(<[u8]>::to_vec)
        } else {
            None
        };
        super::raw::read_specs(&mut r, flags, columns);
        total += r.i32().unwrap() as usize;
        if p.paging_state.is_none() {
            return total;
        }
    }
}

/// How fast the server serves pages (not a correctness test; run with `--ignored`): a 1M-row
/// table read as `SELECT *` in pages of 5000 over raw connections that do not decode cells,
/// sequentially and over 4 concurrent token ranges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_page_serving() {
    let cluster = CqlCluster::start(ClusterOptions::default()).await;
    let rows = 1_000_000i64;
    let mut table = kv_table("bench_ks", "kv", rows);
    table.columns.push(Column::regular("n", CqlType::Int));
    for (i, r) in table.rows.iter_mut().enumerate() {
        r.push(Some(cell_int(i as i32)));
    }
    let t = Instant::now();
    cluster.add_table(table);
    eprintln!("add_table of {rows} rows: {:?}", t.elapsed());

    let mut c = RawClient::connect("127.0.0.1", cluster.port()).await;
    c.startup(None).await;
    let t = Instant::now();
    let n = count_rows(&mut c, "SELECT * FROM bench_ks.kv", None).await;
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(n, rows as usize);
    eprintln!("1 connection: {:.0} rows/s", rows as f64 / secs);

    let q = "SELECT * FROM bench_ks.kv WHERE token(pk) > ? AND token(pk) <= ?";
    let bounds = [i64::MIN, i64::MIN / 2, 0, i64::MAX / 2, i64::MAX];
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in bounds.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let port = cluster.port();
        tasks.push(tokio::spawn(async move {
            let mut c = RawClient::connect("127.0.0.1", port).await;
            c.startup(None).await;
            let values = Some(vec![Some(cell_bigint(lo)), Some(cell_bigint(hi))]);
            count_rows(&mut c, q, values).await
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(total, rows as usize);
    eprintln!("4 connections: {:.0} rows/s", rows as f64 / secs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scylla_driver_over_mutual_tls_with_openssl() {
    use openssl::ssl::{SslConnector, SslFiletype, SslMethod};
    let certs = super::certs::TestCerts::generate();
    let cluster = CqlCluster::start(ClusterOptions {
        nodes: 3,
        credentials: Some(("tls".into(), "tls".into())),
        tls: Some(certs.server_tls(true)),
        ..Default::default()
    })
    .await;
    cluster.add_table(kv_table("tls_ks", "kv", 300));
    let connector = |client_cert: bool| {
        let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
        b.set_ca_file(&certs.ca).unwrap();
        if client_cert {
            b.set_certificate_chain_file(&certs.client_cert).unwrap();
            b.set_private_key_file(&certs.client_key, SslFiletype::PEM)
                .unwrap();
        }
        b
    };
    let session = SessionBuilder::new()
        .known_nodes(cluster.contact_points())
        .user("tls", "tls")
        .tls_context(Some(connector(true)))
        .build()
        .await
        .expect("a session over mutual TLS");
    let rows = session
        .query_unpaged("SELECT pk, v FROM tls_ks.kv", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap();
    assert_eq!(rows.rows_num(), 300);
    assert_eq!(
        session
            .get_cluster_state()
            .replica_locator()
            .unique_nodes_in_global_ring()
            .len(),
        3
    );
    let nodes: BTreeSet<usize> = cluster
        .requests()
        .iter()
        .filter(|r| r.opcode == opcode::AUTH_RESPONSE)
        .map(|r| r.node)
        .collect();
    assert_eq!(nodes, BTreeSet::from([0, 1, 2]), "TLS to every node");
    let without = SessionBuilder::new()
        .known_nodes(cluster.contact_points())
        .user("tls", "tls")
        .tls_context(Some(connector(false)))
        .build()
        .await;
    assert!(without.is_err(), "no client certificate, no session");
}

/// A xorshift generator: deterministic "random" bytes for the robustness test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// Fewer than `max` bytes.
    fn some_bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max);
        self.bytes(n)
    }
}

const WORDS: &[&str] = &[
    "SELECT",
    "*",
    "FROM",
    "fz.kv",
    "kv",
    "WHERE",
    "token(pk)",
    "token",
    "(",
    ")",
    ">",
    ">=",
    "<",
    "<=",
    "=",
    "?",
    ":n",
    "AND",
    "pk",
    "v",
    "IN",
    "LIMIT",
    "1",
    "-5",
    "0",
    "'x'",
    "''",
    "\"pk\"",
    ",",
    ";",
    ".",
    "USE",
    "fz",
    "system.local",
    "system_schema.columns",
    "keyspace_name",
    "ALLOW",
    "FILTERING",
    "AS",
    "99999999999999999999999999999999999999999",
    "-9223372036854775808",
    "'",
    "\"",
    "é",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_random_requests_never_panic_the_server() {
    let cluster = CqlCluster::start(ClusterOptions::default()).await;
    cluster.add_table(kv_table("fz", "kv", 50));
    let port = cluster.port();
    let mut c = RawClient::connect("127.0.0.1", port).await;
    c.startup(None).await;

    // Valid bodies to mutate.
    let mut valid: Vec<(u8, Vec<u8>)> = Vec::new();
    let q = "SELECT pk, v FROM fz.kv WHERE token(pk) > ? AND token(pk) <= ? LIMIT ?";
    let mut p = params(Some(3));
    p.values = Some(vec![
        Some(cell_bigint(i64::MIN)),
        Some(cell_bigint(0)),
        Some(cell_int(7)),
    ]);
    p.paging_state = decode_rows(&c.query(q, &p).await).paging_state;
    let mut body = Vec::new();
    body.put_long_string(q);
    p.encode(&mut body);
    valid.push((opcode::QUERY, body));
    let prepared = decode_prepared(&c.prepare(q).await);
    let mut body = Vec::new();
    body.put_short_bytes(&prepared.id);
    p.encode(&mut body);
    valid.push((opcode::EXECUTE, body));
    let mut body = Vec::new();
    body.put_long_string("SELECT * FROM system_schema.columns WHERE keyspace_name IN ?");
    let mut pin = params(Some(2));
    pin.values = Some(vec![Some(cell_list(vec![cell_text("fz")]))]);
    pin.encode(&mut body);
    valid.push((opcode::QUERY, body));
    let mut body = Vec::new();
    body.put_string_list(&["SCHEMA_CHANGE"]);
    valid.push((opcode::REGISTER, body));

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut replies, mut closes) = (0, 0);
    for _ in 0..3000 {
        let (op, body) = match rng.below(3) {
            0 => {
                let (op, mut body) = valid[rng.below(valid.len())].clone();
                for _ in 0..1 + rng.below(4) {
                    match rng.below(3) {
                        0 if !body.is_empty() => {
                            let at = rng.below(body.len());
                            body[at] = rng.next() as u8;
                        }
                        1 => body.truncate(rng.below(body.len() + 1)),
                        _ => body.extend(rng.some_bytes(8)),
                    }
                }
                (op, body)
            }
            1 => {
                let cql: Vec<&str> = (0..1 + rng.below(12))
                    .map(|_| WORDS[rng.below(WORDS.len())])
                    .collect();
                let mut body = Vec::new();
                body.put_long_string(&cql.join(" "));
                let mut qp = params(None);
                if rng.below(2) == 0 {
                    qp.values = Some(
                        (0..rng.below(4))
                            .map(|_| Some(rng.some_bytes(10)))
                            .collect(),
                    );
                }
                qp.page_size = (rng.below(2) == 0).then(|| rng.next() as i32 % 5);
                qp.paging_state = (rng.below(3) == 0).then(|| rng.bytes(25));
                qp.encode(&mut body);
                let op = [opcode::QUERY, opcode::PREPARE][rng.below(2)];
                (op, body)
            }
            _ => {
                let ops = [0x00, 0x01, 0x05, 0x07, 0x09, 0x0A, 0x0B, 0x0D, 0x0F, 0x20];
                (ops[rng.below(ops.len())], rng.some_bytes(40))
            }
        };
        let stream = c.send(0x04, op, &body).await;
        match c.recv().await {
            Some(f) => {
                assert_eq!(f.stream, stream);
                replies += 1;
            }
            None => {
                closes += 1;
                c = RawClient::connect("127.0.0.1", port).await;
                c.startup(None).await;
            }
        }
    }
    assert_eq!(cluster.panics(), 0, "the server panicked");
    assert!(
        replies > 1000 && closes > 10,
        "{replies} replies, {closes} closes"
    );
    let rows = decode_rows(&c.query("SELECT * FROM fz.kv", &params(None)).await);
    assert_eq!(rows.rows.len(), 50);
}
