import { statefulChanges } from '../../scripts/stateful-changes.js';

/** `cdk diff` output as the CLI prints it to a terminal (colours included) for a refactor gone wrong. */
const DIFF = [
  'Stack McpOAuth-prod',
  'IAM Statement Changes',
  '┌───┬──────────┬────────┐',
  '│ + │ ${X.Arn} │ Allow  │',
  'Resources',
  '[-] AWS::DynamoDB::Table Storage/Table StorageTableB43FDCE7 orphan',
  '[+] AWS::DynamoDB::Table Data/Table DataTable0A1B2C3D ',
  '\u001b[33m[~]\u001b[39m \u001b[36mAWS::SecretsManager::Secret\u001b[39m SigningKeys/Secret \u001b[90mSigningKeysSecret988BD324\u001b[39m \u001b[3m\u001b[1m\u001b[31mreplace\u001b[39m\u001b[22m\u001b[23m',
  ' └─ [~] Name (requires replacement)',
  '[~] AWS::SSM::Parameter SigningKeys/PublicKeys SigningKeysPublicKeysE873222C may be replaced',
  '[~] AWS::Cognito::UserPool Users/UserPool UsersUserPool7E610616 ',
  ' └─ [~] UserPoolTags',
  '[-] AWS::SecretsManager::Secret InitialAccessTokenSecretE297E924 destroy',
  '[~] AWS::Lambda::Function OAuth/Function OAuthFunction48EC2749 replace',
  '[~] AWS::Cognito::UserPool Users/UserPool UsersUserPoolNEW replace (OR move from Old.UsersUserPool via refactoring)',
].join('\n');

describe('statefulChanges', () => {
  it('lists each stateful resource removed or replaced, by type and logical id', () => {
    // Act
    const changes = statefulChanges(DIFF);

    // Assess
    expect(changes.map(({ change, type, logicalId }) => `${change} ${type} ${logicalId}`)).toEqual([
      'remove AWS::DynamoDB::Table StorageTableB43FDCE7',
      'replace AWS::SecretsManager::Secret SigningKeysSecret988BD324',
      'may be replaced AWS::SSM::Parameter SigningKeysPublicKeysE873222C',
      'remove AWS::SecretsManager::Secret InitialAccessTokenSecretE297E924',
      'replace AWS::Cognito::UserPool UsersUserPoolNEW',
    ]);
  });

  it('ignores additions, updates in place and stateless replacements', () => {
    // Act
    const changes = statefulChanges(
      [
        '[+] AWS::DynamoDB::Table Storage/Table StorageTableB43FDCE7 ',
        '[~] AWS::DynamoDB::Table Storage/Table StorageTableB43FDCE7 ',
        ' └─ [~] PointInTimeRecoverySpecification',
        '[~] AWS::Lambda::Function Mcp/Function McpFunctionD30E3E93 replace',
        '[-] AWS::CloudWatch::Alarm Alarms/x Alarmsx destroy',
        'There were no differences',
      ].join('\n'),
    );

    // Assess
    expect(changes).toEqual([]);
  });

  it('reads a resource line without a construct path (a resource the CLI cannot map)', () => {
    // Act
    const [change] = statefulChanges('[~] AWS::SecretsManager::Secret OriginSecret1234 replace');

    // Assess
    expect(change).toMatchObject({ change: 'replace', logicalId: 'OriginSecret1234' });
  });
});
