//! Tests of the expression language: a table of `(template, expected JSON, source)` rows
//! evaluated in a fixed test scope, error kinds with their exact spans, static accessors,
//! stringification, and a no-panic sweep over garbled input.
//!
//! Source keys of the table:
//! - `EXPR <anchor>`: learn.microsoft.com/azure/data-factory/control-flow-expression-language-functions#<anchor>
//!   (`EXPR expressions` is the page's "Expressions" section; `EXPR erratum` marks an example
//!   whose printed output is wrong by the page's own definition, corrected here, see
//!   shared notes §3.7);
//! - `DFTF <test id>`: microsoft/data-factory-testing-framework @d72a73cd,
//!   `tests/unit/functions/test_data_factory_testing_framework_expression_evaluator.py`
//!   (engine-checked cases; `DFTF default_variables` is
//!   `tests/functional/variables_default_value`);
//! - `LAUX`: Azure/LogicAppsUX expression scanner/parser (`parsers/lib/expression`);
//! - `LSPARAM`: learn.microsoft.com/azure/data-factory/parameterize-linked-services;
//! - `ERRH`: learn.microsoft.com/azure/data-factory/tutorial-pipeline-failure-error-handling;
//! - `SYSVAR`: learn.microsoft.com/azure/data-factory/control-flow-system-variables;
//! - `RFC2397`: the data URI RFC's own example;
//! - `DECISION <what>`: behaviour the sources leave open, chosen here (see shared notes §8).

use serde_json::{Map, Value, json};

use super::*;

/// A scope with everything in it (or, with `bare`, nothing but the pipeline).
struct TestScope {
    pipeline: Value,
    dataset: Option<Map<String, Value>>,
    linked_service: Option<Map<String, Value>>,
    item: Option<Value>,
    variables: Option<Map<String, Value>>,
    activities: Map<String, Value>,
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn full_scope() -> TestScope {
    TestScope {
        pipeline: json!({
            "DataFactory": "adf-test",
            "Pipeline": "CopyAll",
            "RunId": "123",
            "TriggerType": "Manual",
            "TriggerTime": "2018-04-15T13:00:00.0000000Z",
            "parameters": {
                "myNumber": 42,
                "myString": "foo",
                "firstName": "Sophia",
                "lastName": "Owen",
                "parameter": {"field1": {"field2": "value1"}},
                "nullable": {"field1": null},
                "list": [{"field1": {"field2": "value1"}}],
                "SubPath": "apath",
                "a": "aval",
                "sub3": "param1",
                "flag": true,
                "rate": 0.016666666666666666,
                "companyName": "Contoso-\nCorporation"
            },
            "globalParameters": {"OpsPrincipalClientId": "id"}
        }),
        dataset: Some(object(
            json!({"path": "container/folder", "TableName": "dbo.Sales"}),
        )),
        linked_service: Some(object(json!({"DBName": "sales"}))),
        item: Some(json!({"SourceTable": "Orders", "field1": {"field2": "value1"}})),
        variables: Some(object(json!({
            "stringVar": "",
            "intVar": 0,
            "boolVar": false,
            "arrayVar": [],
            "abc": "defaultvalue_"
        }))),
        activities: object(json!({
            "LookupTableList": {
                "status": "Succeeded",
                "output": {
                    "count": 2,
                    "value": [
                        {"TABLE_SCHEMA": "dbo", "TABLE_NAME": "Orders"},
                        {"TABLE_SCHEMA": "sales", "TABLE_NAME": "Customers"}
                    ]
                }
            },
            "Sample": {
                "status": "Succeeded",
                "output": {
                    "float": 0.016666666666666666,
                    "billingReference": {
                        "activityType": "ExternalActivity",
                        "billableDuration": [
                            {"meterType": "AzureIR", "duration": 0.016666666666666666, "unit": "Hours"}
                        ]
                    }
                }
            },
            "get nested object": {
                "status": "Succeeded",
                "output": {
                    "pipelineReturnValue": {"returnValue": {"attribute1": {"param1": "value1"}}}
                }
            },
            "Error activity": {
                "status": "Failed",
                "error": {"message": "Oh no, something went wrong"}
            }
        })),
    }
}

/// Only `pipeline()` is available, as in a pipeline's top level outside any ForEach, with
/// no activity run yet and variables not available.
fn bare_scope() -> TestScope {
    TestScope {
        dataset: None,
        linked_service: None,
        item: None,
        variables: None,
        activities: Map::new(),
        ..full_scope()
    }
}

impl Scope for TestScope {
    fn pipeline(&self) -> Option<&Value> {
        Some(&self.pipeline)
    }
    fn dataset(&self) -> Option<&Map<String, Value>> {
        self.dataset.as_ref()
    }
    fn linked_service(&self) -> Option<&Map<String, Value>> {
        self.linked_service.as_ref()
    }
    fn item(&self) -> Option<&Value> {
        self.item.as_ref()
    }
    fn variable(&self, name: &str) -> Result<Option<Value>, Vec<String>> {
        match &self.variables {
            None => Ok(None),
            Some(vars) => match vars.get(name) {
                Some(v) => Ok(Some(v.clone())),
                None => Err(vars.keys().cloned().collect()),
            },
        }
    }
    fn activity(&self, name: &str) -> Result<Value, String> {
        self.activities
            .get(name)
            .cloned()
            .ok_or_else(|| format!("activity '{name}' has not run before this point"))
    }
}

fn eval_in(template: &str, scope: &dyn Scope) -> Result<Value, ExprError> {
    parse_template(template)?.evaluate(scope)
}

/// `(template, expected value as JSON text, source)`.
const ROWS: &[(&str, &str, &str)] = &[
    // --- Which strings are expressions; interpolation; escapes.
    ("parameters", r#""parameters""#, "EXPR expressions"),
    ("parameters[1]", r#""parameters[1]""#, "EXPR expressions"),
    ("@@", r#""@""#, "EXPR expressions"),
    (" @", r#"" @""#, "EXPR expressions"),
    ("@", r#""@""#, "LAUX isTemplateExpression (needs 2 chars)"),
    ("@@abc", r#""@abc""#, "LAUX parseTemplateExpression"),
    (
        "@@concat('a', 'b')",
        r#""@concat('a', 'b')""#,
        "EXPR expressions (@@ escape)",
    ),
    (
        "@pipeline().parameters.myString",
        r#""foo""#,
        "EXPR expressions",
    ),
    (
        "@{pipeline().parameters.myString}",
        r#""foo""#,
        "EXPR expressions",
    ),
    ("@pipeline().parameters.myNumber", "42", "EXPR expressions"),
    (
        "@{pipeline().parameters.myNumber}",
        r#""42""#,
        "EXPR expressions",
    ),
    (
        "Answer is: @{pipeline().parameters.myNumber}",
        r#""Answer is: 42""#,
        "EXPR expressions",
    ),
    (
        "@concat('Answer is: ', string(pipeline().parameters.myNumber))",
        r#""Answer is: 42""#,
        "EXPR expressions",
    ),
    (
        "Answer is: @@{pipeline().parameters.myNumber}",
        r#""Answer is: @{pipeline().parameters.myNumber}""#,
        "EXPR expressions",
    ),
    (
        "First Name: @{pipeline().parameters.firstName} Last Name: @{pipeline().parameters.lastName}",
        r#""First Name: Sophia Last Name: Owen""#,
        "EXPR expressions",
    ),
    (
        "/repos/@{pipeline().globalParameters.OpsPrincipalClientId}/",
        r#""/repos/id/""#,
        "DFTF string_interpolation",
    ),
    (
        "/repos/@{pipeline().globalParameters.OpsPrincipalClientId}/@{pipeline().parameters.SubPath}",
        r#""/repos/id/apath""#,
        "DFTF string_interpolation_with_multiple_interpolations",
    ),
    (
        "@{pipeline().globalParameters.OpsPrincipalClientId}",
        r#""id""#,
        "DFTF string_interpolation_with_no_surrounding_literals",
    ),
    (
        "x@{concat('}', 'y')}z",
        r#""x}yz""#,
        "LAUX _parseStringInterpolationExpression ('}' in a string)",
    ),
    (
        "@{'a'}@{'b'}",
        r#""ab""#,
        "LAUX _parseStringInterpolationExpression",
    ),
    (
        "a@@b @{'c'}",
        r#""a@@b c""#,
        "LAUX _parseStringInterpolationExpression (@@ only escapes @{)",
    ),
    (
        "{ \n  \"type\": \"@{if(equals(1, 2), 'Blob', 'Table' )}\",\n  \"name\": \"@{toUpper('myData')}\"\n}",
        r#""{ \n  \"type\": \"Table\",\n  \"name\": \"MYDATA\"\n}""#,
        "EXPR dynamic-content-editor",
    ),
    (
        "@{pipeline().parameters.flag}",
        r#""True""#,
        "DFTF default_variables (.NET True/False)",
    ),
    (
        "@{createArray(1, 'a')}",
        r#""[1,\"a\"]""#,
        "EXPR string (JSON text of collections)",
    ),
    (
        "@{null}",
        r#""""#,
        "DFTF default_variables (null prints empty)",
    ),
    // --- Grammar: whitespace, quotes, indexes, case.
    (
        "@item().SourceTable ",
        r#""Orders""#,
        "DFTF item_reference_with_ws",
    ),
    (
        "@ concat('a', 'b')",
        r#""ab""#,
        "LAUX scanner (whitespace between tokens)",
    ),
    ("@concat('a', 'b' )", r#""ab""#, "DFTF function_call"),
    (
        "@concat('https://example.com/jobs/', '123''', concat('&', 'abc,'))",
        r#""https://example.com/jobs/123'&abc,""#,
        "DFTF function_call_with_nested_function_and_single_quote",
    ),
    (
        "@concat(  'x1'  , \n 'x2','x3'  )",
        r#""x1x2x3""#,
        "DFTF function_call_with_ws_and_newline",
    ),
    (
        "@concat('Baba', '''s ', 'book store')",
        r#""Baba's book store""#,
        "EXPR escaping-single-quote-character",
    ),
    (
        "@createArray('a', 'b')",
        r#"["a","b"]"#,
        "DFTF function_call_array_result",
    ),
    (
        "@createArray('a', 'b')[1]",
        r#""b""#,
        "DFTF function_call_with_array_index",
    ),
    (
        "@createArray('a', createArray('b', 'c'))[1][0]",
        r#""b""#,
        "DFTF function_call_with_nested_array_index",
    ),
    (
        "@createArray('a', 'b')[add(0, 1)]",
        r#""b""#,
        "EXPR complex-expression-example ([expr] index)",
    ),
    (
        "@CONCAT('a', 'b')",
        r#""ab""#,
        "DFTF test_evaluate_function_names_are_case_insensitive",
    ),
    (
        "@ToUpper('x')",
        r#""X""#,
        "DFTF test_evaluate_function_names_are_case_insensitive",
    ),
    (
        "@if(TRUE, 'y', 'n')",
        r#""y""#,
        "LAUX parser (literal keywords case-insensitive)",
    ),
    (
        "@coalesce(NULL, False)",
        "false",
        "LAUX parser (literal keywords case-insensitive)",
    ),
    ("@add(+1, -3)", "-2", "LAUX scanner (signed numbers)"),
    ("@mul(2.5e2, 2)", "500.0", "LAUX scanner (exponent)"),
    (
        "@pipeline().Parameters.MYSTRING",
        r#""foo""#,
        "DFTF activity_reference_with_error_message (case-insensitive members)",
    ),
    (
        "@activity('LookupTableList').Status",
        r#""Succeeded""#,
        "ERRH (activity('A').Status)",
    ),
    (
        "@json('{\"a\": 1, \"A\": 2}').A",
        "2",
        "LAUX getPropertyValue (exact match first)",
    ),
    (
        "@json('{\"a\": 1, \"A\": 2}').a",
        "1",
        "LAUX getPropertyValue (exact match first)",
    ),
    (
        "@json('{\"my key\": 5}')['my key']",
        "5",
        "EXPR complex-expression-example (['name'])",
    ),
    (
        "@pipeline().parameters['myString']",
        r#""foo""#,
        "EXPR complex-expression-example (['name'])",
    ),
    // --- Accessors.
    (
        "@pipeline().RunId",
        r#""123""#,
        "DFTF test_evaluate_system_variable",
    ),
    (
        "@pipeline().parameters.parameter",
        r#"{"field1":{"field2":"value1"}}"#,
        "DFTF pipeline_parameters_reference_complex",
    ),
    (
        "@pipeline().parameters.list[0].field1.field2",
        r#""value1""#,
        "DFTF test_evaluate_parameter_with_complex_object_and_array_index",
    ),
    (
        "@pipeline().globalParameters.OpsPrincipalClientId",
        r#""id""#,
        "DFTF pipeline_global_parameters_reference",
    ),
    (
        "@dataset().path",
        r#""container/folder""#,
        "EXPR a-dataset-with-a-parameter",
    ),
    (
        "@dataset()['TableName']",
        r#""dbo.Sales""#,
        "DFTF dataset_reference",
    ),
    (
        "@linkedService().DBName",
        r#""sales""#,
        "DFTF linked_service_reference",
    ),
    (
        "Server=db;Database=@{linkedService().DBName};",
        r#""Server=db;Database=sales;""#,
        "LSPARAM",
    ),
    (
        "@item().field1.field2",
        r#""value1""#,
        "DFTF test_evaluate_complex_item",
    ),
    (
        "@variables('abc')",
        r#""defaultvalue_""#,
        "DFTF variables_reference",
    ),
    (
        "@concat('https://example.com/jobs/', '123''', variables('abc'), pipeline().parameters.SubPath)",
        r#""https://example.com/jobs/123'defaultvalue_apath""#,
        "DFTF function_call_with_nested_references",
    ),
    (
        "@activity('Sample').output.billingReference.billableDuration[0].duration",
        "0.016666666666666666",
        "DFTF activity_reference_with_nested_property_and_array_index",
    ),
    (
        "@concat(activity('Sample').output.float, 'test')",
        r#""0.016666666666666666test""#,
        "DFTF function_call_with_nested_property",
    ),
    (
        "@activity('get nested object').output.pipelineReturnValue.returnValue.attribute1[pipeline().parameters.sub3]",
        r#""value1""#,
        "DFTF activity_reference_with_nested_property_and_parameter_reference",
    ),
    (
        "@activity('get nested object').output.pipelineReturnValue.returnValue.attribute1['param1']",
        r#""value1""#,
        "DFTF activity_reference_with_nested_property_and_string_reference",
    ),
    (
        "@activity('Error activity').Error.message",
        r#""Oh no, something went wrong""#,
        "DFTF activity_reference_with_error_message",
    ),
    (
        "@activity('LookupTableList').output.value[1].TABLE_NAME",
        r#""Customers""#,
        "EXPR expressions (activity('Web1').output.data)",
    ),
    (
        "@length(activity('LookupTableList').output.value)",
        "2",
        "EXPR length",
    ),
    // --- Null-safe navigation.
    (
        "@pipeline().parameters.parameter.field1?.field2",
        r#""value1""#,
        "DFTF test_evaluate_function_with_null_conditional_operator",
    ),
    (
        "@pipeline().parameters.nullable?.field1?.field2",
        "null",
        "DFTF test_evaluate_function_with_null_conditional_operator_and_null_value",
    ),
    (
        "@pipeline()?.TriggeredByPipelineRunId",
        "null",
        "DFTF test_evaluate_function_with_null_conditional_operator_and_system_variable",
    ),
    (
        "@pipeline()?.TriggeredByPipelineName",
        "null",
        "SYSVAR (?TriggeredByPipelineName)",
    ),
    (
        "@pipeline().parameters?.missing",
        "null",
        "SYSVAR (? on a missing member)",
    ),
    (
        "@createArray(1)?[5]",
        "null",
        "DECISION ?[ on an index out of range gives null",
    ),
    (
        "@json('{\"a\": {\"b\": null}}').a.b?.c",
        "null",
        "DFTF test_evaluate_function_with_null_conditional_operator_and_null_value",
    ),
    // --- Laziness.
    (
        "@or(equals(pipeline().parameters.a,'aval'),equals(pipeline().parameters.b,'bval'))",
        "true",
        "DFTF or_true_with_left_parameter_short_circuit",
    ),
    (
        "@and(equals(pipeline().parameters.a,'OTHER'),equals(pipeline().parameters.b,'bval'))",
        "false",
        "DFTF and_false_with_left_parameter_short_circuit",
    ),
    (
        "@if(equals('MATCH', 'MATCH'), 'LEFT_BRANCH', pipeline().parameters.b)",
        r#""LEFT_BRANCH""#,
        "DFTF if_true_right_no_parameter",
    ),
    (
        "@if(equals(pipeline().parameters.a, 'NO_MATCH'), 'LEFT_BRANCH', 'RIGHT_BRANCH')",
        r#""RIGHT_BRANCH""#,
        "DFTF if_false",
    ),
    (
        "@if(false, div(1, 0), 'safe')",
        r#""safe""#,
        "DFTF if_true_right_no_parameter (untaken branch not evaluated)",
    ),
    (
        "@if(equals(variables('stringVar'), null), 'is null', concat('is not null: ', variables('stringVar')))\n",
        r#""is not null: ""#,
        "DFTF default_variables",
    ),
    (
        "@if(equals(variables('intVar'), null), 'is null', concat('is not null: ', variables('intVar')))\n",
        r#""is not null: 0""#,
        "DFTF default_variables",
    ),
    (
        "@if(equals(variables('boolVar'), null), 'is null', concat('is not null: ', variables('boolVar')))\n",
        r#""is not null: False""#,
        "DFTF default_variables",
    ),
    (
        "@if(equals(variables('arrayVar'), null), 'is null', concat('is not null: ', variables('arrayVar')))\n",
        r#""is not null: []""#,
        "DFTF default_variables",
    ),
    // --- JSON navigation (DFTF test_json_nested_object_with_list_and_attributes).
    (
        "@json('[ \"field0\", \"field1\" ]')[1]",
        r#""field1""#,
        "DFTF list",
    ),
    (
        "@json('{ \"field0\": \"value0\", \"field1\": \"value1\" }').field1",
        r#""value1""#,
        "DFTF field",
    ),
    (
        "@json('[ [ { \"field0\": \"value0\" }, { \"field1\": \"value1\" } ] ]')[0][1].field1",
        r#""value1""#,
        "DFTF field_in_nested_list",
    ),
    (
        "@json('{ \"field0\": { \"field1\": [ \"value1\", \"value2\" ] } }').field0.field1[1]",
        r#""value2""#,
        "DFTF list_in_field_in_field",
    ),
    (
        "@json('{ \"field0\": [ { \"field1\": [ \"value1\", \"value2\" ] } ] }').field0[0].field1[1]",
        r#""value2""#,
        "DFTF list_in_field_in_list_in_field",
    ),
    // --- String functions.
    (
        "@concat('Hello', 'World')",
        r#""HelloWorld""#,
        "EXPR concat",
    ),
    (
        "@concat(1, true, null, json('[]'))",
        r#""1True[]""#,
        "DFTF default_variables (concat stringifies)",
    ),
    (
        "@substring('hello world', 6, 5)",
        r#""world""#,
        "EXPR substring",
    ),
    (
        "@substring('hello', 1)",
        r#""ello""#,
        "DECISION substring length optional (Logic Apps family)",
    ),
    (
        "@replace('the old string', 'old', 'new')",
        r#""the new string""#,
        "EXPR replace",
    ),
    (
        "@replace('aAa', 'a', 'b')",
        r#""bAb""#,
        "EXPR replace (case-sensitive, all occurrences)",
    ),
    (
        "@replace('abc', 'x', 'y')",
        r#""abc""#,
        "EXPR replace (original if absent)",
    ),
    (
        "@toLower('Hello World')",
        r#""hello world""#,
        "EXPR toLower",
    ),
    (
        "@toUpper('Hello World')",
        r#""HELLO WORLD""#,
        "EXPR toUpper",
    ),
    ("@trim(' Hello World  ')", r#""Hello World""#, "EXPR trim"),
    ("@split('a_b_c', '_')", r#"["a","b","c"]"#, "EXPR split"),
    (
        "@split('abc', '')",
        r#"["abc"]"#,
        "DECISION split with an empty delimiter",
    ),
    (
        "@startsWith('hello world', 'hello')",
        "true",
        "EXPR startswith",
    ),
    (
        "@startsWith('hello world', 'greetings')",
        "false",
        "EXPR startswith",
    ),
    (
        "@startsWith('Hello World', 'hELLO')",
        "true",
        "EXPR startswith (not case-sensitive)",
    ),
    ("@endsWith('hello world', 'world')", "true", "EXPR endswith"),
    (
        "@endsWith('hello world', 'universe')",
        "false",
        "EXPR endswith",
    ),
    (
        "@endsWith('hello world', 'WORLD')",
        "true",
        "EXPR endswith (not case-sensitive)",
    ),
    ("@indexOf('hello world', 'world')", "6", "EXPR indexof"),
    (
        "@indexOf('HELLO WORLD', 'world')",
        "6",
        "EXPR indexof (not case-sensitive)",
    ),
    ("@indexOf('hello', 'z')", "-1", "EXPR indexof"),
    ("@indexOf('hello', '')", "0", "DECISION .NET IndexOf of ''"),
    (
        "@lastIndexOf('hello world', 'world')",
        "6",
        "EXPR lastindexof",
    ),
    (
        "@lastIndexOf('abcABC', 'abc')",
        "3",
        "EXPR lastindexof (not case-sensitive)",
    ),
    (
        "@lastIndexOf('hello', '')",
        "5",
        "DECISION .NET 5 LastIndexOf of ''",
    ),
    ("@length(guid())", "36", "EXPR guid"),
    ("@length(guid('N'))", "32", "EXPR guid"),
    ("@length(guid('B'))", "38", "EXPR guid"),
    (
        "@and(startsWith(guid('P'), '('), endsWith(guid('P'), ')'))",
        "true",
        "EXPR guid",
    ),
    ("@length(guid('X'))", "68", "EXPR guid (.NET X format)"),
    ("@equals(guid(), guid())", "false", "EXPR guid"),
    // --- Collection functions.
    ("@length('abcd')", "4", "EXPR length"),
    ("@length(createArray(0, 1, 2, 3))", "4", "EXPR length"),
    ("@first('hello')", r#""h""#, "EXPR first"),
    ("@first(createArray(0, 1, 2))", "0", "EXPR first"),
    (
        "@first(json('[]'))",
        "null",
        "DECISION first of an empty array",
    ),
    ("@last('abcd')", r#""d""#, "EXPR last"),
    ("@last(createArray(0, 1, 2, 3))", "3", "EXPR last"),
    ("@contains('hello world', 'world')", "true", "EXPR contains"),
    (
        "@contains('hello world', 'universe')",
        "false",
        "EXPR contains",
    ),
    (
        "@contains('hello world', 'WORLD')",
        "false",
        "EXPR contains (case-sensitive)",
    ),
    (
        "@contains(createArray(1, 2), 2)",
        "true",
        "EXPR contains (array element)",
    ),
    (
        "@contains(json('{\"a\": 1}'), 'a')",
        "true",
        "EXPR contains (dictionary key)",
    ),
    ("@empty('')", "true", "EXPR empty"),
    ("@empty('abc')", "false", "EXPR empty"),
    ("@empty(json('{}'))", "true", "EXPR empty (object)"),
    ("@empty(null)", "true", "DECISION empty(null)"),
    (
        "@union(createArray(1, 2, 3), createArray(1, 2, 10, 101))",
        "[1,2,3,10,101]",
        "EXPR union",
    ),
    (
        "@union(json('{\"a\": 1, \"b\": 2}'), json('{\"b\": 3}'))",
        r#"{"a":1,"b":3}"#,
        "EXPR union (objects, last wins)",
    ),
    (
        "@intersection(createArray(1, 2, 3), createArray(101, 2, 1, 10), createArray(6, 8, 1, 2))",
        "[1,2]",
        "EXPR intersection",
    ),
    (
        "@intersection(json('{\"a\": 1, \"b\": 2}'), json('{\"b\": 3, \"c\": 4}'))",
        r#"{"b":3}"#,
        "EXPR intersection (objects, last wins)",
    ),
    ("@skip(createArray(0, 1, 2, 3), 1)", "[1,2,3]", "EXPR skip"),
    (
        "@skip(createArray(0, 1), 5)",
        "[]",
        "DECISION skip past the end",
    ),
    ("@take('abcde', 3)", r#""abc""#, "EXPR take"),
    (
        "@take(createArray(0, 1, 2, 3, 4), 3)",
        "[0,1,2]",
        "EXPR take",
    ),
    (
        "@join(createArray('a', 'b', 'c'), '.')",
        r#""a.b.c""#,
        "EXPR join",
    ),
    (
        "@join(createArray(1, true, 'x'), ',')",
        r#""1,True,x""#,
        "DFTF default_variables (elements stringified)",
    ),
    // --- Logical functions.
    ("@and(true, true)", "true", "EXPR and"),
    ("@and(false, true)", "false", "EXPR and"),
    ("@and(false, false)", "false", "EXPR and"),
    ("@and(equals(1, 1), equals(2, 2))", "true", "EXPR and"),
    ("@and(equals(1, 1), equals(1, 2))", "false", "EXPR and"),
    ("@or(true, false)", "true", "EXPR or"),
    ("@or(false, false)", "false", "EXPR or"),
    ("@or(equals(1, 1), equals(1, 2))", "true", "EXPR or"),
    ("@not(false)", "true", "EXPR not"),
    ("@not(true)", "false", "EXPR not"),
    ("@not(equals(1, 2))", "true", "EXPR not"),
    ("@if(equals(1, 1), 'yes', 'no')", r#""yes""#, "EXPR if"),
    ("@equals('abc', 'abcd')", "false", "EXPR equals"),
    (
        "@equals(true, 1)",
        "false",
        "DECISION equals is typed (EXPR claims true; notes §8.5)",
    ),
    (
        "@equals(1, 1.0)",
        "true",
        "DECISION numbers compare by value",
    ),
    (
        "@equals(createArray(1, 'a'), json('[1, \"a\"]'))",
        "true",
        "DECISION deep equality",
    ),
    ("@greater(10, 5)", "true", "EXPR greater"),
    ("@greater('apple', 'banana')", "false", "EXPR greater"),
    ("@greaterOrEquals(5, 5)", "true", "EXPR greaterOrEquals"),
    (
        "@greaterOrEquals('apple', 'banana')",
        "false",
        "EXPR greaterOrEquals",
    ),
    ("@less(5, 10)", "true", "EXPR less"),
    ("@less('banana', 'apple')", "false", "EXPR less"),
    ("@lessOrEquals(10, 10)", "true", "EXPR lessOrEquals"),
    (
        "@lessOrEquals('apply', 'apple')",
        "false",
        "EXPR lessOrEquals",
    ),
    (
        "@greater(2.5, 2)",
        "true",
        "EXPR greater (mixed int and float)",
    ),
    // --- Conversion functions.
    ("@array('hello')", r#"["hello"]"#, "EXPR array"),
    (
        "@createArray('h', 'e', 'l', 'l', 'o')",
        r#"["h","e","l","l","o"]"#,
        "EXPR createArray",
    ),
    ("@coalesce(null, true, false)", "true", "EXPR coalesce"),
    (
        "@coalesce(null, 'hello', 'world')",
        r#""hello""#,
        "EXPR coalesce",
    ),
    ("@coalesce(null, null, null)", "null", "EXPR coalesce"),
    (
        "@coalesce('', 'x')",
        r#""""#,
        "EXPR coalesce (empty string is not null)",
    ),
    (
        "@coalesce(null)",
        "null",
        "DFTF function_call_with_null_parameter",
    ),
    ("@string(10)", r#""10""#, "EXPR string"),
    (
        "@string(json('{ \"name\": \"Sophie Owen\" }'))",
        r#""{\"name\":\"Sophie Owen\"}""#,
        "EXPR string",
    ),
    ("@string(true)", r#""True""#, "DFTF default_variables"),
    (
        "@string(pipeline().parameters.rate)",
        r#""0.016666666666666666""#,
        "DFTF function_call_with_nested_property",
    ),
    (
        "@string(1e15)",
        r#""1E+15""#,
        "DECISION .NET double.ToString (notes §3.5)",
    ),
    (
        "@string(0.00001)",
        r#""1E-05""#,
        "DECISION .NET double.ToString (notes §3.5)",
    ),
    ("@string(mul(1.5, 2))", r#""3""#, "EXPR mul (.NET prints 3)"),
    ("@int('10')", "10", "EXPR int"),
    (
        "@int(' -12 ')",
        "-12",
        "DECISION int accepts a sign and surrounding blanks (.NET int.Parse)",
    ),
    (
        "@int(2.5)",
        "2",
        "DECISION int of a float rounds half to even (.NET Convert.ToInt64)",
    ),
    ("@float('10.333')", "10.333", "EXPR float"),
    ("@float('10')", "10.0", "EXPR float (always a float)"),
    ("@bool(1)", "true", "EXPR bool"),
    ("@bool(0)", "false", "EXPR bool"),
    (
        "@bool('True')",
        "true",
        "DECISION bool of 'true'/'false' strings (notes §3.4)",
    ),
    ("@json('[1, 2, 3]')", "[1,2,3]", "EXPR json"),
    (
        "@json('{\"fullName\": \"Sophia Owen\"}')",
        r#"{"fullName":"Sophia Owen"}"#,
        "EXPR json",
    ),
    (
        "@json(null)",
        "{}",
        "EXPR json (null gives an empty object)",
    ),
    ("@base64('hello')", r#""aGVsbG8=""#, "EXPR base64"),
    (
        "@base64ToString('aGVsbG8=')",
        r#""hello""#,
        "EXPR base64ToString",
    ),
    (
        "@decodeBase64('aGVsbG8=')",
        r#""hello""#,
        "EXPR decodeBase64",
    ),
    (
        "@dataUri('hello')",
        r#""data:text/plain;charset=utf-8;base64,aGVsbG8=""#,
        "EXPR dataUri",
    ),
    (
        "@dataUriToString('data:text/plain;charset=utf-8;base64,aGVsbG8=')",
        r#""hello""#,
        "EXPR dataUriToString",
    ),
    (
        "@dataUriToString('data:,A%20brief%20note')",
        r#""A brief note""#,
        "RFC2397",
    ),
    (
        "@uriComponent('https://contoso.com')",
        r#""https%3A%2F%2Fcontoso.com""#,
        "EXPR erratum uriComponent",
    ),
    (
        "@encodeUriComponent('https://contoso.com')",
        r#""https%3A%2F%2Fcontoso.com""#,
        "EXPR erratum encodeUriComponent",
    ),
    (
        "@uriComponentToString('http%3A%2F%2Fcontoso.com')",
        r#""http://contoso.com""#,
        "EXPR erratum uriComponentToString",
    ),
    (
        "@decodeUriComponent('http%3A%2F%2Fcontoso.com')",
        r#""http://contoso.com""#,
        "EXPR erratum decodeUriComponent",
    ),
    (
        "@uriComponentToString(replace(uriComponent(pipeline().parameters.companyName), '%0A', ''))",
        r#""Contoso-Corporation""#,
        "EXPR replacing-special-characters",
    ),
    // --- Math functions.
    ("@add(1, 1.5)", "2.5", "EXPR add"),
    ("@add(1, 2)", "3", "EXPR add (integers stay integers)"),
    (
        "@sub(10.3, 0.3)",
        "10.0",
        "EXPR sub (written .3 there, see notes §8.6)",
    ),
    ("@sub(1, 3)", "-2", "EXPR sub"),
    ("@mul(1, 2)", "2", "EXPR mul"),
    ("@mul(1.5, 2)", "3.0", "EXPR mul"),
    ("@div(10, 5)", "2", "EXPR div"),
    ("@div(11, 5)", "2", "EXPR div"),
    ("@div(-7, 2)", "-3", "DECISION div truncates toward zero"),
    (
        "@div(11, 5.0)",
        "2.2",
        "DECISION div is float division when an operand is a float (notes §8.4)",
    ),
    ("@mod(3, 2)", "1", "EXPR mod"),
    (
        "@mod(-7, 3)",
        "-1",
        "DECISION mod takes the dividend's sign (.NET %)",
    ),
    ("@max(1, 2, 3)", "3", "EXPR max"),
    ("@max(createArray(1, 2, 3))", "3", "EXPR max"),
    ("@max(1, 2.5)", "2.5", "EXPR max (mixed)"),
    ("@min(1, 2, 3)", "1", "EXPR min"),
    ("@min(createArray(1, 2, 3))", "1", "EXPR min"),
    ("@rand(1, 2)", "1", "EXPR rand (upper bound excluded)"),
    (
        "@and(greaterOrEquals(rand(1, 5), 1), less(rand(1, 5), 5))",
        "true",
        "EXPR rand",
    ),
    ("@range(1, 4)", "[1,2,3,4]", "EXPR range"),
    ("@range(0, 0)", "[]", "EXPR range"),
    (
        "@length(range(0, 10))",
        "10",
        "EXPR expressions (@range(0,10) iterates ten times)",
    ),
    // --- Date functions are dispatched to dates.rs (their own table is in dates_tests.rs).
    (
        "@formatDateTime('03/15/2018 12:00:00', 'yyyy-MM-ddTHH:mm:ss')",
        r#""2018-03-15T12:00:00""#,
        "EXPR formatDateTime",
    ),
    (
        "@concat('Test_', formatDateTime('2018-03-15T13:00:00Z', 'yyyy-dd-MM'))",
        r#""Test_2018-15-03""#,
        "EXPR complex-expression-example (dynamic file name)",
    ),
];

#[test]
fn table() {
    let scope = full_scope();
    let mut failures = Vec::new();
    for (template, expected, source) in ROWS {
        let expected: Value = match serde_json::from_str(expected) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{template} [{source}]: bad expected JSON: {e}"));
                continue;
            }
        };
        match eval_in(template, &scope) {
            Ok(actual) if actual == expected => {}
            Ok(actual) => failures.push(format!(
                "{template:?} [{source}]: expected {expected}, got {actual}"
            )),
            Err(e) => failures.push(format!(
                "{template:?} [{source}]: expected {expected}, got error {e} at {:?}",
                e.span
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} row(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(ROWS.len() >= 110, "only {} rows", ROWS.len());
}

#[test]
fn templates_parse_to_the_right_shape() {
    assert_eq!(
        parse_template("@@x").unwrap(),
        Template::Literal("@x".to_string())
    );
    assert!(parse_template("plain").unwrap().is_literal());
    assert!(parse_template("a @@{b}").unwrap().is_literal());
    assert!(!parse_template("@{'a'}").unwrap().is_literal());
    match parse_template("@concat('a', 'b')").unwrap() {
        Template::Expression(Expr {
            kind: ExprKind::Call { name, args },
            span,
        }) => {
            assert_eq!(name, "concat");
            assert_eq!(args.len(), 2);
            assert_eq!(span, 1..17);
            assert_eq!(args[1].span, 13..16);
        }
        other => panic!("unexpected {other:?}"),
    }
    match parse_template("a @{item()?.x} b").unwrap() {
        Template::Interpolated(parts) => {
            assert_eq!(parts.len(), 3);
            assert_eq!(parts[0], Part::Text("a ".to_string()));
            let Part::Expr(Expr {
                kind: ExprKind::Index { null_safe, .. },
                span,
            }) = &parts[1]
            else {
                panic!("unexpected {:?}", parts[1]);
            };
            assert!(*null_safe);
            assert_eq!(*span, 4..13);
            assert_eq!(parts[2], Part::Text(" b".to_string()));
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// Asserts that `template` fails in `scope` with `kind` at `span`.
fn assert_error(
    template: &str,
    scope: &dyn Scope,
    kind: &ExprErrorKind,
    span: std::ops::Range<usize>,
) {
    match eval_in(template, scope) {
        Ok(v) => panic!("{template:?}: expected {kind:?}, got value {v}"),
        Err(e) => {
            assert_eq!(&e.kind, kind, "{template:?}");
            assert_eq!(e.span, span, "{template:?}: span of {kind:?}");
        }
    }
}

fn syntax_error(template: &str, span: std::ops::Range<usize>, fragment: &str) {
    match parse_template(template) {
        Ok(t) => panic!("{template:?}: parsed as {t:?}"),
        Err(e) => {
            let ExprErrorKind::Syntax { message } = &e.kind else {
                panic!("{template:?}: expected a syntax error, got {:?}", e.kind);
            };
            assert!(
                message.contains(fragment),
                "{template:?}: message {message:?}"
            );
            assert_eq!(e.span, span, "{template:?}: span");
        }
    }
}

#[test]
fn syntax_errors_have_spans() {
    syntax_error("@concat('a'", 7..11, "not closed");
    syntax_error("@concat(\"a\", 'b')", 8..9, "single quotes");
    syntax_error("@sub(10.3, .3)", 11..12, "0.5");
    syntax_error("x @{concat('a')", 2..15, "'@{' is not closed");
    syntax_error("@'abc", 1..5, "not terminated");
    syntax_error("@pipeline()?x", 11..12, "'?' must be followed");
    syntax_error("@concat('a', 'b') extra", 18..19, "after the end");
    syntax_error("@concat('a' 'b')", 12..13, "separate arguments");
    syntax_error("@ ", 2..2, "is empty");
    syntax_error("a @{} b", 4..4, "is empty");
    syntax_error("@foo", 1..4, "neither a function call nor a literal");
    syntax_error("@pipeline().", 12..12, "property name");
    syntax_error("@createArray(1)[0", 15..17, "']'");
    syntax_error("@add(1, 2)+1", 10..11, "no operators");
    syntax_error("@add(1a, 2)", 6..7, "right after a number");
    syntax_error("@add(1., 2)", 5..7, "decimal point");
    syntax_error("@add(-, 2)", 5..6, "sign");
}

#[test]
fn unknown_functions_and_arity_are_parse_errors_on_the_name() {
    let parse_err = |t: &str| parse_template(t).expect_err(t);
    let e = parse_err("@concatt('a', 'b')");
    assert_eq!(
        e.kind,
        ExprErrorKind::UnknownFunction {
            name: "concatt".to_string(),
            suggestion: Some("concat"),
        }
    );
    assert_eq!(e.span, 1..8);
    assert_eq!(
        e.to_string(),
        "unknown function 'concatt'; did you mean 'concat'?"
    );

    let e = parse_err("x @{ toLowr('A') }");
    assert_eq!(
        e.kind,
        ExprErrorKind::UnknownFunction {
            name: "toLowr".to_string(),
            suggestion: Some("toLower"),
        }
    );
    assert_eq!(e.span, 5..11);

    let e = parse_err("@frobnicate()");
    assert_eq!(
        e.kind,
        ExprErrorKind::UnknownFunction {
            name: "frobnicate".to_string(),
            suggestion: None,
        }
    );

    // Unknown even where it is never evaluated: the check is static.
    let e = parse_err("@if(true, 'a', nope())");
    assert_eq!(e.span, 15..19);

    let e = parse_err("@substring('abc')");
    assert_eq!(
        e.kind,
        ExprErrorKind::Arity {
            function: "substring",
            expected: "2 or 3",
            found: 1,
        }
    );
    assert_eq!(e.span, 1..10);

    let e = parse_err("@IF(true, 1)");
    assert_eq!(
        e.kind,
        ExprErrorKind::Arity {
            function: "if",
            expected: "3",
            found: 2,
        }
    );
    assert_eq!(e.span, 1..3);

    let e = parse_err("@concat('a')");
    assert_eq!(
        e.kind,
        ExprErrorKind::Arity {
            function: "concat",
            expected: "at least 2",
            found: 1,
        }
    );
    // Date functions come from dates.rs through the same lookup.
    let e = parse_err("@ADDDAYS('2018-01-01T00:00:00Z')");
    assert_eq!(
        e.kind,
        ExprErrorKind::Arity {
            function: "addDays",
            expected: "2 or 3",
            found: 1,
        }
    );
    assert_eq!(e.span, 1..8);
    let e = parse_err("@formatDateTme(utcnow())");
    assert_eq!(
        e.kind,
        ExprErrorKind::UnknownFunction {
            name: "formatDateTme".to_string(),
            suggestion: Some("formatDateTime"),
        }
    );
    let e = parse_err("@pipeline(1)");
    assert_eq!(
        e.to_string(),
        "function 'pipeline' takes no argument(s), but 1 were given"
    );
}

#[test]
fn evaluation_errors_have_kinds_and_spans() {
    let full = full_scope();
    let bare = bare_scope();
    assert_error(
        "@toLower(1)",
        &full,
        &ExprErrorKind::ArgumentType {
            function: "toLower",
            position: 1,
            expected: "a string",
            found: "an integer",
        },
        9..10,
    );
    assert_error(
        "@and(true, 'x')",
        &full,
        &ExprErrorKind::ArgumentType {
            function: "and",
            position: 2,
            expected: "a boolean",
            found: "a string",
        },
        11..14,
    );
    assert_error(
        "@if('yes', 1, 2)",
        &full,
        &ExprErrorKind::ArgumentType {
            function: "if",
            position: 1,
            expected: "a boolean",
            found: "a string",
        },
        4..9,
    );
    assert_error(
        "@add(1, '2')",
        &full,
        &ExprErrorKind::ArgumentType {
            function: "add",
            position: 2,
            expected: "a number",
            found: "a string",
        },
        8..11,
    );
    assert_error(
        "@div(1, 0)",
        &full,
        &ExprErrorKind::InvalidArgument {
            function: "div",
            reason: "the divisor (argument 2) is zero".to_string(),
        },
        1..10,
    );
    assert_error(
        "x@{substring('abc', 2, 5)}",
        &full,
        &ExprErrorKind::InvalidArgument {
            function: "substring",
            reason: "length 5 from index 2 is out of range for a string of 3 characters; \
                     'start index' and 'length' must be non-negative and their sum at most the \
                     length of the string"
                .to_string(),
        },
        3..25,
    );
    assert_error(
        "@pipeline().Foo",
        &full,
        &ExprErrorKind::NoSuchProperty {
            name: "Foo".to_string(),
            available: [
                "DataFactory",
                "Pipeline",
                "RunId",
                "TriggerType",
                "TriggerTime",
                "parameters",
                "globalParameters",
            ]
            .map(String::from)
            .to_vec(),
        },
        12..15,
    );
    assert_error(
        "@createArray('a')[3]",
        &full,
        &ExprErrorKind::BadIndex {
            target: "an array of 1 element".to_string(),
            key: "3".to_string(),
        },
        18..19,
    );
    assert_error(
        "@pipeline().parameters.myString.x",
        &full,
        &ExprErrorKind::BadIndex {
            target: "a string".to_string(),
            key: "'x'".to_string(),
        },
        32..33,
    );
    assert_error(
        "@pipeline().parameters.nullable.field1.x",
        &full,
        &ExprErrorKind::BadIndex {
            target: "null".to_string(),
            key: "'x'".to_string(),
        },
        39..40,
    );
    let parameters: Vec<String> = full.pipeline["parameters"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    assert_error(
        "@pipeline().parameters.missing",
        &full,
        &ExprErrorKind::NoSuchParameter {
            scope: "pipeline",
            name: "missing".to_string(),
            available: parameters.clone(),
        },
        23..30,
    );
    // DFTF or_false_with_right_parameter_exception: the second argument is reached.
    assert_error(
        "@or(equals(pipeline().parameters.a,'OTHER'),equals(pipeline().parameters.b,'bval'))",
        &full,
        &ExprErrorKind::NoSuchParameter {
            scope: "pipeline",
            name: "b".to_string(),
            available: parameters.clone(),
        },
        73..74,
    );
    // DFTF if_false_left_no_parameter: the taken branch fails.
    assert_error(
        "@if(equals('MATCH', 'MATCH'), pipeline().parameters.b, 'RIGHT_BRANCH')",
        &full,
        &ExprErrorKind::NoSuchParameter {
            scope: "pipeline",
            name: "b".to_string(),
            available: parameters,
        },
        52..53,
    );
    assert_error(
        "@pipeline().globalParameters.nope",
        &full,
        &ExprErrorKind::NoSuchParameter {
            scope: "global",
            name: "nope".to_string(),
            available: vec!["OpsPrincipalClientId".to_string()],
        },
        29..33,
    );
    assert_error(
        "@dataset().nope",
        &full,
        &ExprErrorKind::NoSuchParameter {
            scope: "dataset",
            name: "nope".to_string(),
            available: vec!["path".to_string(), "TableName".to_string()],
        },
        11..15,
    );
    assert_error(
        "@linkedService()['nope']",
        &full,
        &ExprErrorKind::NoSuchParameter {
            scope: "linked service",
            name: "nope".to_string(),
            available: vec!["DBName".to_string()],
        },
        17..23,
    );
    assert_error(
        "@variables('nope')",
        &full,
        &ExprErrorKind::NoSuchVariable {
            name: "nope".to_string(),
            available: ["stringVar", "intVar", "boolVar", "arrayVar", "abc"]
                .map(String::from)
                .to_vec(),
        },
        1..18,
    );
    assert_error(
        "@item()",
        &bare,
        &ExprErrorKind::NotAvailable {
            what: "item()".to_string(),
            reason: "item() is only available inside a ForEach activity (or a Filter activity's \
                     condition); pass the element to a child pipeline through its parameters"
                .to_string(),
        },
        1..7,
    );
    assert_error(
        "path/@{dataset().path}",
        &bare,
        &ExprErrorKind::NotAvailable {
            what: "dataset()".to_string(),
            reason: "dataset() is only available inside a dataset definition; pass the value \
                     through the dataset's parameters"
                .to_string(),
        },
        7..16,
    );
    assert_error(
        "@activity('Later').output",
        &bare,
        &ExprErrorKind::NotAvailable {
            what: "activity('Later')".to_string(),
            reason: "activity 'Later' has not run before this point".to_string(),
        },
        1..18,
    );
    assert_error(
        "@variables('v')",
        &bare,
        &ExprErrorKind::NotAvailable {
            what: "variables('v')".to_string(),
            reason: "variables only exist in a pipeline's activities; pass the value through \
                     parameters"
                .to_string(),
        },
        1..15,
    );
    assert_error(
        "@pipeline()",
        &EmptyScope,
        &ExprErrorKind::NotAvailable {
            what: "pipeline()".to_string(),
            reason: "pipeline() is only available in a pipeline's activities; in a dataset or \
                     linked service, pass the value through its parameters"
                .to_string(),
        },
        1..11,
    );
    let e = eval_in("@xpath(xml('<a/>'), '/a')", &full).expect_err("xpath");
    assert!(matches!(&e.kind, ExprErrorKind::NotAvailable { what, .. } if what == "xpath()"));
    assert_eq!(e.span, 1..25);
}

#[test]
fn error_messages_read_well() {
    let e = eval_in("@pipeline().parameters.nope", &full_scope()).expect_err("nope");
    assert!(
        e.to_string().starts_with(
            "pipeline parameter 'nope' is not defined; defined parameters: myNumber, myString"
        ),
        "{e}"
    );
    let e = eval_in("@variables('x')", &full_scope()).expect_err("x");
    assert!(
        e.to_string().contains("declared variables: stringVar"),
        "{e}"
    );
}

#[test]
fn accessors_are_found_statically() {
    let t = parse_template(
        "@concat(pipeline().parameters.inputPath, pipeline()['parameters']['Out'], \
         pipeline().RunId, item().x, variables('v'), activity('A').output, dataset().p, \
         linkedService().DB, dataset(), variables(item()))",
    )
    .unwrap();
    let found: Vec<Accessor> = t.accessors().into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        found,
        vec![
            Accessor::PipelineParameter("inputPath".to_string()),
            Accessor::PipelineParameter("Out".to_string()),
            Accessor::Pipeline,
            Accessor::Item,
            Accessor::Variable("v".to_string()),
            Accessor::Activity("A".to_string()),
            Accessor::DatasetParameter("p".to_string()),
            Accessor::LinkedServiceParameter("DB".to_string()),
            Accessor::Dataset,
            Accessor::Item,
        ]
    );
    let t = parse_template("in @{pipeline().parameters.x.y} and @{pipeline().parameters[item()]}")
        .unwrap();
    assert_eq!(
        t.accessors(),
        vec![
            (Accessor::PipelineParameter("x".to_string()), 5..28),
            (Accessor::Pipeline, 38..48),
            (Accessor::Item, 60..66),
        ]
    );
    assert!(parse_template("literal").unwrap().accessors().is_empty());
}

#[test]
fn display_strings_follow_dotnet() {
    let cases = [
        (json!(null), ""),
        (json!(true), "True"),
        (json!(false), "False"),
        (json!(42), "42"),
        (json!(-7), "-7"),
        (json!(18446744073709551615u64), "18446744073709551615"),
        (json!(2.5), "2.5"),
        (json!(3.0), "3"),
        (json!(0.016666666666666666), "0.016666666666666666"),
        (json!(123456789012345.0), "123456789012345"),
        (json!(1e15), "1E+15"),
        (json!(1.5e300), "1.5E+300"),
        (json!(0.0001), "0.0001"),
        (json!(0.00001), "1E-05"),
        (json!(-2.5e-7), "-2.5E-07"),
        (json!("text"), "text"),
        (json!([1, "a", true, null]), r#"[1,"a",true,null]"#),
        (json!({"b": 1, "a": {"c": []}}), r#"{"b":1,"a":{"c":[]}}"#),
    ];
    for (value, expected) in cases {
        assert_eq!(to_display_string(&value), expected, "{value}");
    }
}

#[test]
fn literal_templates_need_no_scope() {
    assert_eq!(
        parse_template("a @@{b}")
            .unwrap()
            .evaluate(&EmptyScope)
            .unwrap(),
        json!("a @{b}")
    );
    assert_eq!(
        parse_template("@concat('a', string(add(1, 2)))")
            .unwrap()
            .evaluate(&EmptyScope)
            .unwrap(),
        json!("a3")
    );
}

/// Valid templates, whose prefixes and mutations the no-panic sweep feeds to the parser.
const SEEDS: &[&str] = &[
    "@concat('a', 'b''c', concat('&', 'd'))",
    "x @{pipeline().parameters.myString} y @{item()?['field1'].field2} z",
    "@activity('get nested object').output.pipelineReturnValue.returnValue.attribute1[pipeline().parameters.sub3]",
    "@if(and(equals(1, 1.5e3), or(true, FALSE)), createArray(-1, +2)[0], json('{\"a\": [1]}').a)",
    "@pipeline()?.TriggeredByPipelineName",
    "a@@{b}@{'}'}c€",
    "@substring('héllo wörld', 1, 3)",
];

#[test]
fn garbled_input_never_panics() {
    let scope = full_scope();
    let mut inputs: Vec<String> = Vec::new();
    for seed in SEEDS {
        let boundaries: Vec<usize> = seed
            .char_indices()
            .map(|(i, _)| i)
            .chain([seed.len()])
            .collect();
        for &end in &boundaries {
            inputs.push(seed[..end].to_string());
            inputs.push(seed[end..].to_string());
        }
        for w in boundaries.windows(2) {
            let mut deleted = seed.to_string();
            deleted.replace_range(w[0]..w[1], "");
            inputs.push(deleted);
            for insert in [
                "'", "(", ")", "[", "]", "{", "}", "@", "?", ".", ",", "\"", " ", "9", "é",
            ] {
                let mut inserted = seed.to_string();
                inserted.insert_str(w[0], insert);
                inputs.push(inserted);
            }
        }
    }
    // Pseudo-random strings over the language's special characters.
    let alphabet: Vec<char> = "@{}()[]'.,?\" \n+-e9aZ_€x".chars().collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..3000 {
        let mut s = String::new();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 24) as usize;
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            s.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        if state.is_multiple_of(2) {
            s.insert(0, '@');
        }
        inputs.push(s);
    }
    // Deep nesting is refused, not a stack overflow.
    inputs.push(format!("@{}1{}", "concat(".repeat(5000), ")".repeat(5000)));
    inputs.push(format!("@pipeline(){}", ".a".repeat(5000)));
    inputs.push(format!("@createArray(1){}", "[0]".repeat(5000)));
    inputs.push(format!("@{}", "[".repeat(5000)));

    for input in &inputs {
        match parse_template(input) {
            Ok(template) => {
                let _ = template.evaluate(&scope);
                let _ = template.evaluate(&EmptyScope);
                let _ = template.accessors();
            }
            Err(e) => {
                assert!(
                    e.span.start <= e.span.end && e.span.end <= input.len(),
                    "{input:?}: {e:?}"
                );
                assert!(input.is_char_boundary(e.span.start) && input.is_char_boundary(e.span.end));
                let _ = e.to_string();
            }
        }
    }
    let deep = parse_template(&format!("@{}1{}", "concat(".repeat(5000), ")".repeat(5000)));
    assert!(matches!(
        deep,
        Err(ExprError {
            kind: ExprErrorKind::Syntax { .. },
            ..
        })
    ));
}

#[test]
fn functions_do_not_panic_on_extreme_values() {
    let scope = full_scope();
    for template in [
        "@add(9223372036854775807, 1)",
        "@mul(9223372036854775807, 2)",
        "@div(-9223372036854775808, -1)",
        "@mod(-9223372036854775808, -1)",
        "@sub(-9223372036854775808, 1)",
        "@range(9223372036854775807, 2)",
        "@range(0, 99999999999)",
        "@range(0, -1)",
        "@substring('abc', -1, 1)",
        "@substring('abc', 9223372036854775807, 9223372036854775807)",
        "@take('abc', 9223372036854775807)",
        "@skip(createArray(1), -5)",
        "@rand(-9223372036854775808, 9223372036854775807)",
        "@int(1e300)",
        "@int('99999999999999999999')",
        "@mul(1e308, 10)",
        "@float('NaN')",
        "@createArray(1)[-1]",
        "@createArray(1)[9223372036854775807]",
        "@max(json('[]'))",
        "@min(createArray('a'))",
        "@base64ToString('%%%')",
        "@dataUriToString('data:')",
        "@uriComponentToString('%E2%82')",
        "@guid('Q')",
        "@json('{')",
    ] {
        let _ = eval_in(template, &scope);
    }
    assert_eq!(
        eval_in("@mod(-9223372036854775808, -1)", &scope).unwrap(),
        json!(0)
    );
    assert!(matches!(
        eval_in("@add(9223372036854775807, 1)", &scope),
        Err(ExprError {
            kind: ExprErrorKind::InvalidArgument {
                function: "add",
                ..
            },
            ..
        })
    ));
}
