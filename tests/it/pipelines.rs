//! Whole pipelines with `quiver run`: the Lookup → ForEach → parameterised Copy pattern,
//! dependency conditions and the pipeline's status, parameters from the command line, and
//! errors that name the file, the JSONPath and the failing part of an expression.

use std::path::{Path, PathBuf};

use quiver::connectors::synthetic::{Profile, SyntheticConfig, SyntheticSource};
use serde_json::{Value, json};

use crate::support::{quiver, read_folder_sorted, unique_dir, visible_files};

/// Runs `quiver run … --json`; (exit code, the run's JSON or Null, stderr).
fn quiver_run(factory: &Path, args: &[&str]) -> (i32, Value, String) {
    let output = quiver()
        .arg("run")
        .arg(factory)
        .arg("--json")
        .args(args)
        .output()
        .expect("quiver runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    (
        output.status.code().unwrap_or(-1),
        value,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// (activity, status, iteration) of every activity run, sorted.
fn statuses(run: &Value) -> Vec<(String, String, Vec<u64>)> {
    let mut out: Vec<(String, String, Vec<u64>)> = run["value"]
        .as_array()
        .expect("activity runs")
        .iter()
        .map(|r| {
            (
                r["activityName"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["quiver"]["iteration"]
                    .as_array()
                    .map(|a| a.iter().map(|i| i.as_u64().unwrap()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/factory-bulk")
}

/// The rows a synthetic `allTypes` table with these settings holds.
fn synthetic_rows(rows: u64, seed: u64) -> arrow::array::RecordBatch {
    SyntheticSource::new(SyntheticConfig {
        rows,
        partitions: 2,
        seed,
        profile: Profile::AllTypes,
    })
    .unwrap()
    .generate(None, 0..rows)
    .unwrap()
}

#[test]
fn bulk_example_copies_every_listed_table_value_for_value() {
    let dir = unique_dir("pipelines-bulk");
    let root = dir.to_string_lossy().into_owned();
    let (code, run, stderr) = quiver_run(
        &example(),
        &[
            "--pipeline",
            "BulkCopyTables",
            "--param",
            &format!("outputRoot={root}"),
        ],
    );
    assert_eq!(code, 0, "{stderr}\n{run:#}");
    assert_eq!(run["status"], "Succeeded", "{run:#}");
    assert_eq!(run["pipelineName"], "BulkCopyTables");
    let mut expected = vec![
        ("CopyEachTable".to_string(), "Succeeded".to_string(), vec![]),
        ("ListTables".to_string(), "Succeeded".to_string(), vec![]),
        ("ReportFailure".to_string(), "Skipped".to_string(), vec![]),
    ];
    for i in 0..3 {
        expected.push(("CopyTable".into(), "Succeeded".into(), vec![i]));
        expected.push(("CountCopied".into(), "Succeeded".into(), vec![i]));
    }
    expected.sort();
    assert_eq!(statuses(&run), expected);
    // The Lookup's output is ADF's, and fed the ForEach.
    let lookup = run["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["activityName"] == "ListTables")
        .unwrap();
    assert_eq!(
        lookup["output"],
        json!({"count": 3, "value": [
            {"TableName": "customers", "RowCount": 5000, "Seed": 2},
            {"TableName": "events", "RowCount": 50000, "Seed": 3},
            {"TableName": "orders", "RowCount": 20000, "Seed": 1}]})
    );
    // One Parquet folder per table, named through the expressions, with exactly the rows.
    for (table, rows, seed) in [
        ("customers", 5000, 2),
        ("events", 50_000, 3),
        ("orders", 20_000, 1),
    ] {
        let folder = dir.join("bulk").join(table);
        let files = visible_files(&folder);
        assert!(!files.is_empty(), "no files in {}", folder.display());
        for f in &files {
            let name = f.file_name().unwrap().to_string_lossy();
            assert!(
                name.starts_with(table),
                "fileNamePrefix from toLower(item()): {name}"
            );
        }
        let got = read_folder_sorted(&folder);
        let want = synthetic_rows(rows, seed);
        assert_eq!(got.num_rows() as u64, rows, "{table}");
        for (i, field) in want.schema().fields().iter().enumerate() {
            assert_eq!(
                got.column(i).to_data(),
                want.column(i).to_data(),
                "{table}.{}",
                field.name()
            );
        }
        let copy = run["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["activityName"] == "CopyTable"
                    && r["output"]["quiver"]["files"][0]
                        .as_str()
                        .is_some_and(|f| f.contains(&format!("/bulk/{table}/")))
            })
            .unwrap_or_else(|| panic!("a CopyTable run wrote {table}"));
        assert_eq!(copy["output"]["rowsCopied"], rows);
    }
}

#[test]
fn pipeline_parameters_come_from_the_command_line_and_a_file() {
    let dir = unique_dir("pipelines-params");
    let params = dir.join("params.json");
    std::fs::write(
        &params,
        json!({"minRows": 10_000, "outputRoot": "ignored"}).to_string(),
    )
    .unwrap();
    let root = dir.to_string_lossy().into_owned();
    // --param wins over the file; "10000" in the file is an Int already.
    let (code, run, stderr) = quiver_run(
        &example(),
        &[
            "--params-file",
            params.to_str().unwrap(),
            "--param",
            &format!("outputRoot={root}"),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let copies = statuses(&run)
        .into_iter()
        .filter(|(a, _, _)| a == "CopyTable")
        .count();
    assert_eq!(
        copies, 2,
        "customers (5000 rows) is filtered out by minRows"
    );
    assert!(dir.join("bulk/orders").is_dir() && dir.join("bulk/events").is_dir());
    assert!(!dir.join("bulk/customers").exists());
    // A value that is not an Int is refused before anything runs, naming the parameter.
    let (code, _, stderr) = quiver_run(&example(), &["--param", "minRows=many"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("\"minRows\"") && stderr.contains("not a valid Int"),
        "{stderr}"
    );
    // An undeclared one too.
    let (code, _, stderr) = quiver_run(&example(), &["--param", "minRowz=1"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("\"minRowz\" is passed at --param"),
        "{stderr}"
    );
}

/// A factory folder with one pipeline `P` whose activities are `activities`, a synthetic
/// dataset `Gen` (parameter `rows`) and a Parquet dataset `Out` (parameter `folder`) under
/// `dir/out`.
fn factory_with(dir: &Path, activities: Value, extra: Value) -> PathBuf {
    let f = dir.join("factory");
    for sub in ["linkedService", "dataset", "pipeline"] {
        std::fs::create_dir_all(f.join(sub)).unwrap();
    }
    let write = |path: &str, v: Value| {
        std::fs::write(f.join(path), serde_json::to_string_pretty(&v).unwrap()).unwrap()
    };
    write(
        "linkedService/G.json",
        json!({"name": "G", "properties": {"type": "QuiverSynthetic"}}),
    );
    write(
        "linkedService/Disk.json",
        json!({"name": "Disk", "properties": {"type": "FileServer",
            "typeProperties": {"host": dir.join("out").to_string_lossy()}}}),
    );
    write(
        "dataset/Gen.json",
        json!({"name": "Gen", "properties": {"type": "QuiverSyntheticTable",
            "linkedServiceName": {"referenceName": "G", "type": "LinkedServiceReference"},
            "parameters": {"rows": {"type": "Int", "defaultValue": 100}},
            "typeProperties": {"rows": "@dataset().rows", "partitions": 1, "profile": "hiveBench"}}}),
    );
    write(
        "dataset/Out.json",
        json!({"name": "Out", "properties": {"type": "Parquet",
            "linkedServiceName": {"referenceName": "Disk", "type": "LinkedServiceReference"},
            "parameters": {"folder": {"type": "String"}},
            "typeProperties": {"location": {"type": "FileServerLocation",
                "folderPath": "@dataset().folder"}}}}),
    );
    let mut props = json!({"activities": activities});
    if let Value::Object(extra) = extra {
        props.as_object_mut().unwrap().extend(extra);
    }
    write("pipeline/P.json", json!({"name": "P", "properties": props}));
    f
}

fn copy(name: &str, rows: Value, folder: &str, depends: Value) -> Value {
    json!({"name": name, "type": "Copy", "dependsOn": depends,
        "inputs": [{"referenceName": "Gen", "type": "DatasetReference", "parameters": {"rows": rows}}],
        "outputs": [{"referenceName": "Out", "type": "DatasetReference", "parameters": {"folder": folder}}],
        "typeProperties": {"source": {"type": "QuiverSyntheticSource"}, "sink": {"type": "ParquetSink"}}})
}

fn on(activity: &str, conditions: &[&str]) -> Value {
    json!([{"activity": activity, "dependencyConditions": conditions}])
}

#[test]
fn a_failure_runs_the_failed_branch_and_skips_the_succeeded_one() {
    let dir = unique_dir("pipelines-branches");
    // Do-If-Else: the Copy fails at run time (its row count is no number), so its Failed
    // branch runs and its Succeeded branch is skipped, as is what depends on that; the
    // pipeline fails, because a leaf's parent failed.
    let f = factory_with(
        &dir,
        json!([
            // The row count goes through a variable, so it is known only when Load runs.
            {"name": "Prep", "type": "SetVariable",
             "typeProperties": {"variableName": "n", "value": "@pipeline().parameters.rows"}},
            copy("Load", json!("@variables('n')"), "load", on("Prep", &["Succeeded"])),
            {"name": "OnSuccess", "type": "SetVariable", "dependsOn": on("Load", &["Succeeded"]),
             "typeProperties": {"variableName": "v", "value": "ok"}},
            {"name": "AfterSuccess", "type": "Wait", "dependsOn": on("OnSuccess", &["Succeeded"]),
             "typeProperties": {"waitTimeInSeconds": 0}},
            {"name": "OnFailure", "type": "SetVariable", "dependsOn": on("Load", &["Failed"]),
             "typeProperties": {"variableName": "v", "value": "@concat('failed: ', activity('Load').error.errorCode)"}},
            {"name": "Always", "type": "Wait", "dependsOn": on("Load", &["Completed"]),
             "typeProperties": {"waitTimeInSeconds": "0"}}
        ]),
        json!({"parameters": {"rows": {"type": "String", "defaultValue": "100"}},
               "variables": {"v": {"type": "String"}, "n": {"type": "String"}}}),
    );
    let (code, run, stderr) = quiver_run(&f, &["--param", "rows=lots"]);
    assert_eq!(code, 1, "{stderr}\n{run:#}");
    assert_eq!(run["status"], "Failed");
    let s: Vec<(String, String)> = statuses(&run).into_iter().map(|(a, s, _)| (a, s)).collect();
    assert_eq!(
        s,
        [
            ("AfterSuccess", "Skipped"),
            ("Always", "Succeeded"),
            ("Load", "Failed"),
            ("OnFailure", "Succeeded"),
            ("OnSuccess", "Skipped"),
            ("Prep", "Succeeded")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let load = run["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["activityName"] == "Load")
        .unwrap();
    assert_eq!(load["error"]["failureType"], "UserError");
    assert!(
        load["error"]["message"].as_str().unwrap().contains("rows"),
        "the error names the parameter: {load:#}"
    );
    assert!(run["message"].as_str().unwrap().contains("Load"), "{run:#}");
    assert!(!dir.join("out/load").exists() || visible_files(&dir.join("out/load")).is_empty());
    // With a good value the same pipeline succeeds: the Failed branch is skipped, and a
    // skipped leaf counts as its succeeded parent.
    let (code, run, stderr) = quiver_run(&f, &["--param", "rows=250"]);
    assert_eq!(code, 0, "{stderr}\n{run:#}");
    assert_eq!(run["status"], "Succeeded");
    let s: Vec<(String, String)> = statuses(&run).into_iter().map(|(a, s, _)| (a, s)).collect();
    assert_eq!(
        s,
        [
            ("AfterSuccess", "Succeeded"),
            ("Always", "Succeeded"),
            ("Load", "Succeeded"),
            ("OnFailure", "Skipped"),
            ("OnSuccess", "Succeeded"),
            ("Prep", "Succeeded")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(read_folder_sorted(&dir.join("out/load")).num_rows(), 250);
}

#[test]
fn a_handled_failure_leaves_the_pipeline_succeeded_and_fail_sets_the_error() {
    let dir = unique_dir("pipelines-trycatch");
    // Try-Catch: the only leaf is the handler, which succeeds.
    let f = factory_with(
        &dir,
        json!([
            {"name": "Boom", "type": "Fail",
             "typeProperties": {"message": "@concat('bad table ', pipeline().parameters.t)", "errorCode": "E42"}},
            {"name": "Handle", "type": "Wait", "dependsOn": on("Boom", &["Failed"]),
             "typeProperties": {"waitTimeInSeconds": 0}}
        ]),
        json!({"parameters": {"t": {"type": "string", "defaultValue": "x"}}}),
    );
    let (code, run, stderr) = quiver_run(&f, &[]);
    assert_eq!(code, 0, "{stderr}\n{run:#}");
    assert_eq!(run["status"], "Succeeded");
    let boom = run["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["activityName"] == "Boom")
        .unwrap();
    assert_eq!(boom["status"], "Failed");
    assert_eq!(
        boom["error"],
        json!({"errorCode": "E42", "message": "bad table x", "failureType": "UserError", "target": "Boom"})
    );
}

#[test]
fn if_condition_foreach_and_variables_follow_adf() {
    let dir = unique_dir("pipelines-control");
    let f = factory_with(
        &dir,
        json!([
            {"name": "Loop", "type": "ForEach",
             "typeProperties": {"items": "@createArray(3, 1, 2)", "isSequential": "true",
                "activities": [
                    {"name": "Add", "type": "AppendVariable",
                     "typeProperties": {"variableName": "seen", "value": "@mul(item(), 10)"}}
                ]}},
            {"name": "Check", "type": "IfCondition", "dependsOn": on("Loop", &["Succeeded"]),
             "typeProperties": {"expression": {"value": "@equals(length(variables('seen')), 3)", "type": "Expression"},
                "ifTrueActivities": [
                    copy("CopyIf", json!("@add(last(variables('seen')), 5)"), "if", json!([]))
                ],
                "ifFalseActivities": [
                    {"name": "Never", "type": "Fail", "typeProperties": {"message": "wrong", "errorCode": "1"}}
                ]}},
            {"name": "Total", "type": "SetVariable", "dependsOn": on("Check", &["Succeeded"]),
             "typeProperties": {"variableName": "total",
                "value": "@string(activity('CopyIf').output.rowsCopied)"}}
        ]),
        json!({"variables": {"seen": {"type": "Array"}, "total": {"type": "String"}}}),
    );
    let (code, run, stderr) = quiver_run(&f, &[]);
    assert_eq!(code, 0, "{stderr}\n{run:#}");
    // Sequential: the items in order.
    let adds: Vec<u64> = run["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["activityName"] == "Add")
        .map(|r| r["quiver"]["iteration"][0].as_u64().unwrap())
        .collect();
    assert_eq!(adds, [0, 1, 2]);
    let total = run["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["activityName"] == "Total")
        .unwrap();
    // seen = [30, 10, 20]; last + 5 = 25 rows.
    assert_eq!(total["output"], json!({"name": "total", "value": "25"}));
    assert_eq!(read_folder_sorted(&dir.join("out/if")).num_rows(), 25);
    assert!(!statuses(&run).iter().any(|(a, _, _)| a == "Never"));
}

/// Runs `quiver run` on a factory whose pipeline has one Wait activity with
/// `waitTimeInSeconds` set to `expr`; returns the exit code and stderr.
fn broken(test: &str, expr: &str) -> (i32, String, PathBuf) {
    let dir = unique_dir(test);
    let f = factory_with(
        &dir,
        json!([{"name": "W", "type": "Wait", "typeProperties": {"waitTimeInSeconds": expr}}]),
        json!({"parameters": {"n": {"type": "Int", "defaultValue": 1}}}),
    );
    let (code, _, stderr) = quiver_run(&f, &[]);
    (code, stderr, f.join("pipeline/P.json"))
}

#[test]
fn broken_expressions_are_refused_before_anything_runs_with_a_caret() {
    let path = "$.properties.activities[0].typeProperties.waitTimeInSeconds";
    for (expr, says, caret_at, caret_len) in [
        // The unclosed call's parenthesis and arguments.
        ("@add(1, 2", "syntax error", 4, 5),
        ("@ad(1, 2)", "unknown function 'ad'", 1, 2),
        ("@add(1)", "takes 2 argument", 1, 3),
        (
            "@pipeline().parameters.m",
            "pipeline parameter 'm' is not defined",
            1,
            23,
        ),
        ("@item()", "item() is not available here", 1, 6),
    ] {
        let (code, stderr, file) = broken("pipelines-broken", expr);
        assert_eq!(code, 3, "{expr}: {stderr}");
        assert!(
            stderr.contains(&format!("{}: {path}", file.display())),
            "{expr}: {stderr}"
        );
        assert!(stderr.contains(says), "{expr}: {stderr}");
        // The expression, then a caret line under the failing part.
        let lines: Vec<&str> = stderr.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim_start() == expr)
            .unwrap_or_else(|| panic!("{expr}: the expression is shown: {stderr}"));
        let caret = lines[at + 1];
        let indent = lines[at].find(expr.chars().next().unwrap()).unwrap();
        assert_eq!(caret.find('^'), Some(indent + caret_at), "{expr}: {stderr}");
        assert_eq!(caret.trim().len(), caret_len, "{expr}: {stderr}");
    }
}

#[test]
fn an_expression_that_fails_at_run_time_fails_its_activity_naming_it() {
    // Types are only known when it runs: the activity fails, with the caret in its error.
    let (code, stderr, _) = broken("pipelines-runtime", "@add('a', pipeline().parameters.n)");
    assert_eq!(code, 1, "{stderr}");
    let dir = unique_dir("pipelines-runtime-json");
    let f = factory_with(
        &dir,
        json!([{"name": "W", "type": "Wait",
            "typeProperties": {"waitTimeInSeconds": "@add('a', pipeline().parameters.n)"}}]),
        json!({"parameters": {"n": {"type": "Int", "defaultValue": 1}}}),
    );
    let (code, run, _) = quiver_run(&f, &[]);
    assert_eq!(code, 1);
    let message = run["value"][0]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("$.properties.activities[0].typeProperties.waitTimeInSeconds"),
        "{message}"
    );
    assert!(message.contains("function 'add' expects"), "{message}");
    assert!(
        message.contains("@add('a', pipeline().parameters.n)\n"),
        "{message}"
    );
}

#[test]
fn unsupported_activities_and_cycles_are_named() {
    let dir = unique_dir("pipelines-unsupported");
    let f = factory_with(
        &dir,
        json!([{"name": "Call", "type": "ExecutePipeline", "typeProperties": {}}]),
        json!({}),
    );
    let (code, _, stderr) = quiver_run(&f, &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("\"Call\"") && stderr.contains("\"ExecutePipeline\""),
        "{stderr}"
    );
    let dir = unique_dir("pipelines-cycle");
    let f = factory_with(
        &dir,
        json!([
            {"name": "A", "type": "Wait", "dependsOn": on("B", &["Succeeded"]), "typeProperties": {"waitTimeInSeconds": 0}},
            {"name": "B", "type": "Wait", "dependsOn": on("A", &["Succeeded"]), "typeProperties": {"waitTimeInSeconds": 0}}
        ]),
        json!({}),
    );
    let (code, _, stderr) = quiver_run(&f, &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("form a cycle through activities A, B"),
        "{stderr}"
    );
}

#[test]
fn secure_string_parameters_never_print() {
    let dir = unique_dir("pipelines-secret");
    // The secret flows into a variable, then into a copy's row count (which it breaks, at
    // run time) and a Fail message; none of them prints it.
    let f = factory_with(
        &dir,
        json!([
            {"name": "Keep", "type": "SetVariable",
             "typeProperties": {"variableName": "v", "value": "@concat('pw=', pipeline().parameters.pw)"}},
            copy("Copy", json!("@variables('v')"), "x", on("Keep", &["Succeeded"])),
            {"name": "Boom", "type": "Fail", "dependsOn": on("Copy", &["Failed"]),
             "typeProperties": {"message": "@concat('failed with ', variables('v'))", "errorCode": "1"}}
        ]),
        json!({"parameters": {"pw": {"type": "SecureString"}}, "variables": {"v": {"type": "String"}}}),
    );
    let output = quiver()
        .args(["run", "--json"])
        .arg(&f)
        .args(["--param", "pw=hunter2-secret"])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(!all.contains("hunter2"), "{all}");
    let run: Value = serde_json::from_slice(&output.stdout).unwrap();
    let by = |name: &str| {
        run["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["activityName"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by("Keep")["output"]["value"], "pw=***");
    assert_eq!(by("Copy")["status"], "Failed");
    assert_eq!(by("Boom")["error"]["message"], "failed with pw=***");
    assert!(
        by("Copy")["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"pw=***\""),
        "{run:#}"
    );
    // Found before the run (the copy reads the parameter directly): refused, still hidden.
    let dir = unique_dir("pipelines-secret-preflight");
    let f = factory_with(
        &dir,
        json!([copy(
            "Copy",
            json!("@pipeline().parameters.pw"),
            "x",
            json!([])
        )]),
        json!({"parameters": {"pw": {"type": "SecureString"}}}),
    );
    let output = quiver()
        .args(["run"])
        .arg(&f)
        .args(["--param", "pw=hunter2-secret"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("parameter \"rows\" \"***\" is not a valid Int"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn bulk_pattern_over_a_real_spark_server() {
    let env = crate::spark::spark_env();
    let dir = unique_dir("pipelines-spark");
    let f = factory_with(&dir, json!([]), json!({}));
    let write = |path: &str, v: Value| {
        std::fs::write(f.join(path), serde_json::to_string_pretty(&v).unwrap()).unwrap()
    };
    write(
        "linkedService/Spark.json",
        json!({"name": "Spark", "properties": {"type": "Spark",
            "parameters": {"port": {"type": "int"}},
            "typeProperties": {"host": "127.0.0.1", "port": "@{linkedService().port}",
                "serverType": "SparkThriftServer", "thriftTransportProtocol": "sasl",
                "authenticationType": "UsernameAndPassword", "username": "quiver",
                "password": {"type": "SecureString", "value": "pw"}}}}),
    );
    write(
        "dataset/SparkQuery.json",
        json!({"name": "SparkQuery", "properties": {"type": "SparkObject",
            "parameters": {"port": {"type": "int"}},
            "linkedServiceName": {"referenceName": "Spark", "type": "LinkedServiceReference",
                "parameters": {"port": "@dataset().port"}},
            "typeProperties": {}}}),
    );
    let port = env.port("sasl");
    write(
        "pipeline/P.json",
        json!({"name": "P", "properties": {
        "parameters": {"port": {"type": "int", "defaultValue": port}},
        "activities": [
            {"name": "List", "type": "Lookup", "typeProperties": {
                "dataset": {"referenceName": "SparkQuery", "type": "DatasetReference",
                    "parameters": {"port": "@pipeline().parameters.port"}},
                "source": {"type": "SparkSource",
                    "query": "SELECT name, n FROM VALUES ('small', 1234), ('big', 45678) AS t(name, n) ORDER BY name"},
                "firstRowOnly": false}},
            {"name": "Each", "type": "ForEach", "dependsOn": on("List", &["Succeeded"]),
             "typeProperties": {"items": "@activity('List').output.value", "activities": [
                {"name": "CopyOne", "type": "Copy",
                 "inputs": [{"referenceName": "SparkQuery", "type": "DatasetReference",
                    "parameters": {"port": "@pipeline().parameters.port"}}],
                 "outputs": [{"referenceName": "Out", "type": "DatasetReference",
                    "parameters": {"folder": "@item().name"}}],
                 "typeProperties": {
                    "source": {"type": "SparkSource",
                        "query": "SELECT id, id * 2 AS twice FROM range(0, @{item().n})"},
                    "sink": {"type": "ParquetSink"}}}
             ]}}
        ]}}),
    );
    let (code, run, stderr) = quiver_run(&f, &[]);
    assert_eq!(code, 0, "{stderr}\n{run:#}");
    assert!(!stderr.contains("\"pw\""), "{stderr}");
    for (folder, rows) in [("small", 1234i64), ("big", 45_678)] {
        let got = read_folder_sorted(&dir.join("out").join(folder));
        assert_eq!(got.num_rows() as i64, rows, "{folder}");
        let ids = got
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        let twice = got
            .column(1)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        assert!(
            ids.values().iter().copied().eq(0..rows),
            "{folder}: ids 0..{rows}"
        );
        assert!(
            twice
                .values()
                .iter()
                .zip(ids.values())
                .all(|(t, i)| *t == i * 2)
        );
    }
}
